"""Settings parsing: camelCase keys, optional numbers, one message for bad values."""

from sc2_lsp.config import Settings, parse_settings


def test_optional_number_settings_take_null_a_number_or_keep_the_default():
    assert parse_settings({"middleLines": 3}) == (Settings(middle_lines=3), None)
    assert parse_settings({"middleLines": None}) == (Settings(), None)
    settings, message = parse_settings({"middleLines": 9, "contextTokens": "big"})
    assert settings == Settings()
    assert message == ("Invalid sc2 settings (defaults kept): 'middleLines': 9 is outside 0..7; "
                       "'contextTokens': expected a number, got 'big'")
