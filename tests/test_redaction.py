"""One redaction rule for rows, logs and error texts: credential-named variables (and named extras) whose
value has at least MIN_SECRET_CHARS characters."""

import logging

from skillseq.config import Config, OpenAIConfig, TeacherConfig
from skillseq.context import RunContext
from skillseq.redaction import MIN_SECRET_CHARS, RedactingFilter, redact


def test_credential_variables_are_redacted(monkeypatch):
    monkeypatch.setenv("HF_TOKEN", "hf_abcdef123456")
    monkeypatch.setenv("MY_API_KEY", "sk-abc1234")
    assert redact("hf_abcdef123456 then sk-abc1234") == "*** then ***"


def test_other_variables_only_when_named(monkeypatch):
    monkeypatch.setenv("TEACHER_AUTH", "bearer-0123456789")
    assert redact("sent bearer-0123456789") == "sent bearer-0123456789"
    assert redact("sent bearer-0123456789", ("TEACHER_AUTH",)) == "sent ***"


def test_one_threshold_for_short_values(monkeypatch):
    monkeypatch.setenv("SHORT_TOKEN", "x" * (MIN_SECRET_CHARS - 1))
    monkeypatch.setenv("LONG_TOKEN", "y" * MIN_SECRET_CHARS)
    assert MIN_SECRET_CHARS == 8
    assert redact("xxxxxxx yyyyyyyy") == "xxxxxxx ***"


def test_a_value_containing_another_is_hidden_whole(monkeypatch):
    monkeypatch.setenv("A_TOKEN", "abcdefgh")
    monkeypatch.setenv("B_TOKEN", "abcdefgh-ijklmnop")
    assert redact("key abcdefgh-ijklmnop") == "key ***"


def test_rejected_rows_redact_the_configured_key_variable(monkeypatch):
    monkeypatch.setenv("TEACHER_AUTH", "bearer-0123456789")
    cfg = Config(teacher=TeacherConfig(openai=OpenAIConfig(api_key_env="TEACHER_AUTH")))
    row = (
        RunContext.of(cfg)
        .drop("r/1", "stage", "teacher_error", "401 for bearer-0123456789", "bearer-0123456789")
        .value
    )
    assert (row.detail, row.payload) == ("401 for ***", "***")


def test_log_messages_are_redacted(monkeypatch):
    monkeypatch.setenv("HF_TOKEN", "hf_abcdef123456")
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "token %s", ("hf_abcdef123456",), None)
    assert RedactingFilter().filter(record) and record.getMessage() == "token ***"
