"""The terminal progress bars shared by `newsbot ingest` and `newsbot eval`."""

from bot.cli.progress import StageBars, terminal_progress


def test_off_a_terminal_or_with_json_there_is_no_bar():
    with terminal_progress(False, {"embedding": "embedding"}) as bars:
        assert bars is None
    with terminal_progress(True) as bars:  # pytest captures stderr: not a terminal
        assert bars is None


def test_one_labelled_bar_per_stage_updated_in_place():
    with StageBars({"sources": "reading sources"}, transient=True) as bars:
        bars("sources", 0, 3)
        bars("sources", 3, 3)
        bars("embedding", 10, 40)
        tasks = {task.description: (task.completed, task.total) for task in bars.bar.tasks}
    assert tasks == {"reading sources": (3, 3), "embedding": (10, 40)}
