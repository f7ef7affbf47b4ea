"""A node lost to the endpoint's Thrift session is retried once; a real failure is not."""

from __future__ import annotations

from spark_jobs.gold.dbt import DbtRun, NodeResult, _lost_to_the_session, _with_retry

SESSION = "TCloseSessionResp(status=TStatus(... java.lang.NoClassDefFoundError: LlapSigner"


def _node(unique_id: str, status: str, message: str | None = None) -> NodeResult:
    return NodeResult(unique_id, status, 1.0, message, None)


def _run(*nodes: NodeResult, returncode: int = 1) -> DbtRun:
    return DbtRun(("build",), returncode, 2.0, nodes)


def test_only_session_errors_count_as_lost() -> None:
    assert _lost_to_the_session(
        _run(_node("model.a", "success"), _node("test.b", "error", SESSION))
    )
    assert not _lost_to_the_session(_run(_node("test.b", "fail", "Got 7 results")))
    assert not _lost_to_the_session(
        _run(_node("test.b", "error", SESSION), _node("model.c", "error", "syntax error"))
    )
    assert not _lost_to_the_session(_run(_node("model.a", "success"), returncode=0))


def test_the_retry_replaces_the_lost_nodes_and_keeps_the_rest() -> None:
    first = _run(
        _node("model.a", "success"), _node("test.b", "error", SESSION), _node("test.c", "skipped")
    )
    retry = DbtRun(("retry",), 0, 3.0, (_node("test.b", "pass"), _node("test.c", "pass")))
    merged = _with_retry(first, retry)
    assert merged.ok and merged.command == ("build",) and merged.seconds == 5.0
    assert [(n.unique_id, n.status) for n in merged.results] == [
        ("model.a", "success"),
        ("test.b", "pass"),
        ("test.c", "pass"),
    ]
