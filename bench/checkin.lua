-- wrk script: POST /api/v1/sessions/<id>/checkins, each request a different participant at
-- their own site, as the organiser. Counts the answers that are not 201.
--   wrk -t2 -c32 -d10s -s bench/checkin.lua http://127.0.0.1:PORT -- TOKEN SESSION FILE OFFSET 2
-- FILE: one "participant_id site_id" per line (shuffled); OFFSET: lines used by earlier runs;
-- the last argument: wrk's number of threads (-t).
-- Each thread takes every n-th line after OFFSET, so no participant is sent twice.

local threads = {}
local count = 0

function setup(thread)
  thread:set("id", count)
  table.insert(threads, thread)
  count = count + 1
end

function init(args)
  token, session, file = args[1], args[2], args[3]
  offset, nthreads = tonumber(args[4] or "0"), tonumber(args[5] or "1")
  people = {}
  local n = 0
  for line in io.lines(file) do
    n = n + 1
    if n > offset and (n - offset - 1) % nthreads == id then
      local pid, site = line:match("(%d+) (%d+)")
      table.insert(people, {pid, site})
    end
  end
  i = 0
  errors = 0
  path = "/api/v1/sessions/" .. session .. "/checkins"
  headers = {["Authorization"] = "Bearer " .. token,
             ["Content-Type"] = "application/json"}
end

function request()
  i = i + 1
  local p = people[i]
  if p == nil then
    p = people[#people]  -- ran out: the same person again (answered 200, counted as error)
  end
  return wrk.format("POST", path, headers,
                    '{"site_id":' .. p[2] .. ',"participant_id":' .. p[1] .. '}')
end

function response(status, headers, body)
  if status ~= 201 then
    errors = errors + 1
    if errors <= 3 then
      io.stderr:write("unexpected " .. status .. ": " .. body:sub(1, 200) .. "\n")
    end
  end
end

function done(summary, latency, requests)
  local errs, most = 0, 0
  for _, thread in ipairs(threads) do
    errs = errs + thread:get("errors")
    most = math.max(most, thread:get("i"))
  end
  io.write(string.format("checkin-errors %d\n", errs))
  io.write(string.format("checkin-lines %d\n", most * #threads))  -- lines used, at most
end
