"""A real paddleport language server over stdio, driven by pytest-lsp's client."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_lsp
from lsp_helpers import SERVER, start
from pytest_lsp import ClientServerConfig, LanguageClient


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    (tmp_path / "ws").mkdir()
    return tmp_path / "ws"


@pytest_lsp.fixture(config=ClientServerConfig(server_command=SERVER))
async def client(lsp_client: LanguageClient, workspace: Path) -> AsyncIterator[None]:
    """Push diagnostics, resolvable code actions, UTF-16, no debounce wait worth noticing."""
    await start(lsp_client, workspace, {"paddleport": {"debounceMs": 5}})
    yield
    await lsp_client.shutdown_session()


@pytest_lsp.fixture(config=ClientServerConfig(server_command=SERVER))
async def pull_client(lsp_client: LanguageClient, workspace: Path) -> AsyncIterator[None]:
    """A client that pulls diagnostics (textDocument/diagnostic)."""
    await start(lsp_client, workspace, pull=True)
    yield
    await lsp_client.shutdown_session()


@pytest_lsp.fixture(config=ClientServerConfig(server_command=SERVER))
async def utf8_client(lsp_client: LanguageClient, workspace: Path) -> AsyncIterator[None]:
    """UTF-8 positions and no codeAction/resolve: every action comes with its edit."""
    await start(
        lsp_client,
        workspace,
        {"paddleport": {"debounceMs": 5}},
        resolve=False,
        encodings=["utf-8", "utf-16"],
    )
    yield
    await lsp_client.shutdown_session()


@pytest.fixture(scope="module")
def shared_workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("shared_ws")


@pytest_lsp.fixture(scope="module", config=ClientServerConfig(server_command=SERVER))
async def shared(lsp_client: LanguageClient, shared_workspace: Path) -> AsyncIterator[None]:
    """One server for a whole test module (each test uses its own files): startup costs ~3 s.

    Modules using it set ``pytestmark = pytest.mark.asyncio(loop_scope="module")``
    and never change settings.
    """
    await start(lsp_client, shared_workspace, {"paddleport": {"debounceMs": 5}})
    yield
    await lsp_client.shutdown_session()
