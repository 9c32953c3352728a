"""The rules from Janus's facts to a site's media status (pure functions, no database)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from trainer.conference import rules

T0 = datetime(2026, 12, 7, 1, 0, tzinfo=UTC)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def on_call(both: bool = True) -> object:
    site = rules.new_site(1, 2)
    rules.webrtc_up(site, at(0))
    rules.stream(site, "audio", True, at(0.2))
    if both:
        rules.stream(site, "video", True, at(0.3))
    rules.settle(site, at(0.5))
    return site


def test_a_site_that_never_joined_is_never() -> None:
    site = rules.new_site(1, 2)
    assert rules.settle(site, T0) == (False, None)
    assert site.media == "never" and site.first_joined_at is None


def test_the_peer_connection_alone_is_not_yet_on_the_call() -> None:
    site = rules.new_site(1, 2)
    rules.webrtc_up(site, at(0))
    rules.settle(site, at(0))
    assert site.media == "never"


def test_media_arriving_makes_the_site_connected_and_first_joined() -> None:
    site = on_call()
    assert site.media == "connected" and site.video and site.audio
    assert site.first_joined_at == at(0.5) and site.since == at(0.5) and site.drops == 0


def test_a_tab_that_dies_is_lost_not_degraded_when_its_streams_stop_a_second_apart() -> None:
    site = on_call()
    rules.stream(site, "audio", False, at(10))
    changed, again = rules.settle(site, at(10))
    assert (changed, site.media) == (False, "connected")  # waiting: the video may follow
    assert again == at(10) + timedelta(seconds=rules.GRACE_S)
    rules.stream(site, "video", False, at(11))
    assert rules.settle(site, at(11)) == (True, None)
    assert site.media == "lost" and site.drops == 1 and site.since == at(11)
    assert site.connected_s == 10  # from 0.5 s to 11 s, whole seconds


def test_one_stream_gone_past_the_grace_is_degraded() -> None:
    site = on_call()
    rules.stream(site, "video", False, at(20))
    rules.settle(site, at(20))
    changed, again = rules.settle(site, at(20) + timedelta(seconds=rules.GRACE_S))
    assert changed and again is None and site.media == "degraded" and site.audio
    assert site.drops == 0  # still on the call
    rules.stream(site, "video", True, at(30))
    rules.settle(site, at(30))
    assert site.media == "connected"


def test_a_site_without_a_camera_is_connected_on_audio_alone() -> None:
    site = on_call(both=False)
    assert site.media == "connected" and site.audio and not site.video


def test_a_slow_link_is_degraded_for_a_while() -> None:
    site = on_call()
    rules.slow_link(site, at(40))
    changed, again = rules.settle(site, at(40))
    assert changed and site.media == "degraded"
    assert again == at(40) + timedelta(seconds=rules.SLOW_S)
    rules.settle(site, at(40 + rules.SLOW_S))
    assert site.media == "connected"


def test_hangup_then_rejoin_counts_one_drop_and_keeps_the_first_join() -> None:
    site = on_call()
    rules.gone(site, at(60))
    rules.settle(site, at(60))
    assert site.media == "lost" and site.drops == 1 and site.last_seen == at(60)
    rules.webrtc_up(site, at(100))
    rules.stream(site, "audio", True, at(100))
    rules.stream(site, "video", True, at(100))
    rules.settle(site, at(100))
    assert site.media == "connected" and site.first_joined_at == at(0.5)
    assert site.drops == 1
    assert rules.connected_seconds(site, at(130)) == 59 + 30


def test_janus_down_makes_a_site_on_the_call_lost_and_leaves_a_never_site_never() -> None:
    live, absent = on_call(), rules.new_site(1, 3)
    for site in (live, absent):
        rules.gone(site, at(5))
        rules.settle(site, at(5))
    assert live.media == "lost" and absent.media == "never"
