from datetime import UTC, datetime, timedelta

from an_sf_sync.window import extract_window

H = timedelta(hours=1)
T = datetime(2026, 3, 1, 10, tzinfo=UTC)
FIVE = timedelta(minutes=5)


def test_first_run_is_full():
    w = extract_window(interval_start=T - H, interval_end=T, run_after=T, watermark=None, now=T)
    assert w.full and w.end == T


def test_incremental_run_reads_its_hour_plus_overlap():
    w = extract_window(interval_start=T - H, interval_end=T, run_after=T, watermark=T - H, now=T + H)
    assert (w.start, w.end) == (T - H - FIVE, T)


def test_paused_hours_reach_back_to_the_watermark():
    # the DAG was paused for 5 hours; catchup=False schedules only the latest hour
    w = extract_window(interval_start=T - H, interval_end=T, run_after=T, watermark=T - 6 * H, now=T + H)
    assert w.start == T - 6 * H - FIVE


def test_backfill_of_old_hour_reads_its_own_window():
    w = extract_window(interval_start=T - 30 * H, interval_end=T - 29 * H, run_after=T, watermark=T, now=T + H)
    assert (w.start, w.end) == (T - 30 * H - FIVE, T - 29 * H)


def test_window_never_ends_in_the_future():
    # a manual run for the current, unfinished hour ends now, so its watermark is not ahead of time
    now = T - timedelta(minutes=20)
    w = extract_window(interval_start=T - H, interval_end=T, run_after=T, watermark=T - H, now=now)
    assert w.end == now


def test_manual_run_without_logical_date_uses_run_after():
    run_after = T + timedelta(minutes=17)
    w = extract_window(interval_start=None, interval_end=None, run_after=run_after, watermark=T, now=T + H)
    assert (w.start, w.end) == (T - FIVE, run_after)


def test_bounds_are_whole_seconds_like_soql_datetimes():
    w = extract_window(interval_start=None, interval_end=None, run_after=T + timedelta(seconds=7, microseconds=900),
                       watermark=T + timedelta(microseconds=5), now=T + H)
    assert (w.start, w.end) == (T - FIVE, T + timedelta(seconds=7))
