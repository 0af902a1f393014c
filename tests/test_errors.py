"""AppError's subclasses carry their HTTP status and the code the one status table gives it."""

from __future__ import annotations

from hyperpage import errors


def test_each_error_answers_with_its_status_and_that_statuses_code() -> None:
    shown = [
        (cls.status, cls.code)
        for cls in (
            errors.BadRequest,
            errors.Unauthorized,
            errors.Forbidden,
            errors.NotFound,
            errors.Conflict,
            errors.ServiceUnavailable,
        )
    ]
    assert shown == [
        (400, "bad_request"),
        (401, "unauthorized"),
        (403, "forbidden"),
        (404, "not_found"),
        (409, "conflict"),
        (503, "service_unavailable"),
    ]


def test_a_feature_error_keeps_its_own_code_and_a_subclass_inherits_its_parents() -> None:
    class Teapot(errors.AppError):
        status, code = 418, "teapot"

    class Missing(errors.NotFound):
        pass

    class Gone(errors.AppError, status=410, code="token_gone"): ...

    assert (Gone.status, Gone.code) == (410, "token_gone")
    assert (Teapot.status, Teapot.code) == (418, "teapot")
    assert (Missing.status, Missing.code) == (404, "not_found")
    assert (errors.AppError.status, errors.AppError.code) == (500, "internal_error")
