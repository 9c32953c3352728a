"""The session's video room: providers (builtin on Janus, link), the Janus client and managed
process, Janus events -> each site's media status."""
