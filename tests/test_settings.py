"""Settings from defaults, environment and flags."""

from __future__ import annotations

import pytest

from codegen_ui.settings import DEFAULT_MODEL, Settings, SettingsError


def test_defaults_follow_the_design() -> None:
    s = Settings()
    assert (s.model, s.max_new_tokens, s.temperature, s.top_p) == (DEFAULT_MODEL, 128, 0.0, 0.95)


def test_environment_then_flags() -> None:
    env = {
        "CODEGEN_UI_MODEL": "/models/x",
        "CODEGEN_UI_TEMPERATURE": "0.2",
        "CODEGEN_UI_SEED": "7",
        "GRADIO_SERVER_PORT": "9000",
    }
    s = Settings.from_env(env)
    assert (s.model, s.temperature, s.seed, s.port) == ("/models/x", 0.2, 7, 9000)
    assert s.replace(temperature=None, top_p=0.5).top_p == 0.5
    assert s.replace(temperature=None).temperature == 0.2


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"CODEGEN_UI_MAX_NEW_TOKENS": "many"}, "not a number"),
        ({"CODEGEN_UI_TOP_P": "0"}, "top_p"),
        ({"CODEGEN_UI_DEVICE": "tpu"}, "device"),
        ({"CODEGEN_UI_API": "maybe"}, "not true or false"),
        ({"CODEGEN_UI_API": "false", "CODEGEN_UI_MCP": "true"}, "needs api on"),
    ],
)
def test_bad_values_name_the_setting(env: dict[str, str], message: str) -> None:
    with pytest.raises(SettingsError, match=message):
        Settings.from_env(env)


def test_switches_read_true_and_false() -> None:
    assert Settings().api is True and Settings().mcp is False
    assert Settings.from_env({"CODEGEN_UI_API": "false"}).api is False
    assert Settings.from_env({"CODEGEN_UI_MCP": "1"}).mcp is True
    assert Settings().replace(api=None).api is True  # an unset --api/--no-api flag
