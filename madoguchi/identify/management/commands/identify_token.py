"""`madoguchi identify-token --organisation CODE --name NAME [--revoke ID]`: screen-pop tokens.

The new token is printed once; only its hash is stored. Give it to the phone system, which
sends it as `Authorization: Bearer <token>` to `POST /identify/api/screen-pop`. The token
screen (`identify:tokens`) does the same through the same services; tokens made here are
shown there as made by the management command.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
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
        try:
            if options["revoke"]:
                self.revoke(options["revoke"])
            else:
                self.create(options["organisation"] or "", options["name"])
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from error

    def revoke(self, pk: int) -> None:
        token = ApiToken.objects.filter(pk=pk).first()
        if token is None:
            raise CommandError("no token with that id")
        revoke_api_token(token=token, user=None)
        self.stdout.write(f"token {token.pk} revoked")

    def create(self, code: str, name: str) -> None:
        organisation = Organisation.objects.filter(code=code).first()
        if organisation is None:
            raise CommandError("--organisation must name an existing organisation code")
        token, secret = create_api_token(organisation=organisation, name=name, created_by=None)
        self.stdout.write(f"token {token.pk} for {organisation.code} ({token.name}); shown once:")
        self.stdout.write(secret)
