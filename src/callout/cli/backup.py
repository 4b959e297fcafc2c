"""Backing up and restoring a whole installation: every client's services, library,
designers and audit trail, as a folder of YAML files (`interchange.backup`)."""

import shutil
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from callout.cli.common import app, err, fail, installed, out, set_up
from callout.cli.interchange import PassphraseFile, read_passphrase


@app.command("backup")
def backup(
    folder: Annotated[Path, typer.Argument(help="A new or empty folder to write the backup to.")],
    with_secrets: Annotated[
        bool, typer.Option(help="Seal the secrets into the files under a passphrase.")
    ] = False,
    passphrase_file: PassphraseFile = None,
) -> None:
    """Back up every client: services, APIs and requests, designers and the audit trail.

    API keys are not backed up: issue new ones after a restore (`callout apikey create`).
    Secrets are left out and each API file names the ones it lacks; with --with-secrets
    they are sealed under a passphrase (scrypt, AES-256-GCM), to restore with it.

    Examples:
      callout backup backups/2024-06-01 --with-secrets
    """
    from callout.interchange import backup as backups
    from callout.interchange.sealing import Sealer
    from callout.settings import get_settings

    if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
        fail(f"{folder} is not an empty folder: back up into a new one")
    sealer = Sealer(read_passphrase(passphrase_file, confirm=True)) if with_secrets else None
    keyring = get_settings().key_source().keyring()
    with installed().transaction() as session:
        files = backups.export_all(session, keyring, sealer)
    for path, text in sorted(files.items()):
        target = folder / path
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")
        except OSError as error:
            fail(f"cannot write {target}: {error.strerror}")
    err.print(f"Backed up {len(files)} file(s) to {escape(str(folder))}", highlight=False)


@app.command("restore")
def restore(
    folder: Annotated[Path, typer.Argument(help="A folder `callout backup` wrote.")],
    passphrase_file: PassphraseFile = None,
) -> None:
    """Restore a backup into a new installation: the data dir is set up as `callout init`
    sets it up (a new secret key), without the demo client.

    A database that holds any client is refused. Every file is checked first and all is
    written in one transaction, so a bad file changes nothing. Sealed secrets are opened
    with the passphrase and stored under this installation's key. API keys are not in a
    backup: create new ones (`callout apikey create`).

    Examples:
      callout restore backups/2024-06-01 --passphrase-file passphrase.txt
    """
    from callout.interchange import backup as backups
    from callout.interchange.sealing import Opener
    from callout.settings import get_settings

    if not folder.is_dir():
        fail(f"{folder} is not a folder")
    files = backups.read_folder(folder)

    def passphrase() -> str:  # asked for only if a file holds sealed secrets
        return read_passphrase(passphrase_file, confirm=False)

    data_dir = get_settings().data_dir
    made_here = not data_dir.exists()
    keyring, database = set_up()
    try:
        with database.transaction() as session:
            restored = backups.restore(session, keyring, files, Opener(passphrase))
    except BaseException:
        # A refused restore leaves no half-made installation: a data dir it made goes.
        database.dispose()
        if made_here:
            shutil.rmtree(data_dir, ignore_errors=True)
        raise
    table = Table("client", "services", "APIs", "requests", "designers", "audit events", box=None)
    for c in restored:
        counts = (c.services, c.apis, c.requests, c.designers, c.audit_events)
        table.add_row(escape(c.code), *(str(n) for n in counts))
    out.print(f"Restored {len(restored)} client(s).", highlight=False)
    out.print(table)
    for client in restored:
        for missing in client.missing_secrets:
            out.print(f"secret to enter: {escape(client.code)}: {escape(missing)}", highlight=False)
