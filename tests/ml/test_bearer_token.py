"""ml.bearer_token: the endpoint's token check and the token file."""

from __future__ import annotations

import pytest

from ml.bearer_token import TokenFileError, authorised, bearer_header, read_token_file

TOKEN = "s3cr3t-Token_value"


@pytest.mark.parametrize("header", [f"Bearer {TOKEN}", f"bearer {TOKEN}", f" BEARER  {TOKEN} "])
def test_the_right_token_under_the_bearer_scheme_is_authorised(header):
    assert authorised(header, TOKEN)


@pytest.mark.parametrize("header", [None, "", "Bearer", "Bearer ", TOKEN, f"Basic {TOKEN}",
                                    f"Bearer {TOKEN}x", f"Bearer {TOKEN[:-1]}",
                                    f"Bearer {TOKEN.upper()}"])
def test_anything_else_is_not(header):
    assert not authorised(header, TOKEN)


def test_a_client_sends_the_header_only_with_a_token():
    assert bearer_header(TOKEN) == {"Authorization": f"Bearer {TOKEN}"}
    assert bearer_header(None) == {}


def test_a_missing_or_empty_token_file_is_an_error_that_does_not_hold_its_content(tmp_path):
    with pytest.raises(TokenFileError, match="cannot read"):
        read_token_file(tmp_path / "absent")
    (tmp_path / "empty").write_text("\n")
    with pytest.raises(TokenFileError, match="is empty"):
        read_token_file(tmp_path / "empty")
    (tmp_path / "token").write_text(f"{TOKEN}\n")
    assert read_token_file(tmp_path / "token") == TOKEN
