"""`madoguchi identify-token --organisation CODE --name NAME [--revoke ID]`: screen-pop tokens.

The new token is printed once; only its hash is stored. Give it to the phone system, which
sends it as `Authorization: Bearer <token>` to `POST /identify/api/screen-pop`.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from madoguchi.accounts.models import Organisation
from madoguchi.identify.models import ApiToken
from madoguchi.identify.services import create_api_token, revoke_api_token


class Command(BaseCommand):
    help = "Create (or revoke) an API token for a phone system's screen pop."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--organisation", help="organisation code (ward or contractor)")
        parser.add_argument("--name", default="", help="what the token is for, e.g. the PBX's name")
        parser.add_argument("--revoke", type=int, help="revoke the token with this id instead")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["revoke"]:
            token = ApiToken.objects.filter(pk=options["revoke"], revoked_at__isnull=True).first()
            if token is None:
                raise CommandError("no active token with that id")
            revoke_api_token(token=token, user=None)
            self.stdout.write(f"token {token.pk} revoked")
            return
        organisation = Organisation.objects.filter(code=options["organisation"] or "").first()
        if organisation is None:
            raise CommandError("--organisation must name an existing organisation code")
        if not options["name"]:
            raise CommandError("--name is required")
        token, secret = create_api_token(organisation=organisation, name=options["name"], created_by=None)
        self.stdout.write(f"token {token.pk} for {organisation.code} ({token.name}); shown once:")
        self.stdout.write(secret)
