"""Password checking for staff: Django's model backend, narrowed to people who may work today."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.backends import ModelBackend


class StaffBackend(ModelBackend):
    """Refuses users who are disabled, outside their roster dates (R-08), or whose organisation is
    inactive or cut off by the ward manager's kill switch (R-40).

    `get_user` goes through the same check, so such a user's open sessions stop working at
    their next request, whatever the session engine.
    """

    def user_can_authenticate(self, user: Any) -> bool:
        if not super().user_can_authenticate(user):
            return False
        if hasattr(user, "is_within_validity") and not user.is_within_validity():
            return False
        organisation = getattr(user, "organisation", None)
        return organisation is None or (organisation.is_active and not organisation.access_suspended)

    def get_user(self, user_id: Any) -> Any:
        """The session's user with their organisation in one query (every staff page reads both:
        this check, the allowlist and the header), and with the session's second-factor device
        when `accounts.otp.OTPMiddleware` asks for it."""
        from django.contrib.auth import get_user_model

        from madoguchi.accounts.otp import user_with_device

        user = user_with_device(user_id)
        if user is None:
            try:
                user = get_user_model()._default_manager.select_related("organisation").get(pk=user_id)
            except get_user_model().DoesNotExist:
                return None
        return user if self.user_can_authenticate(user) else None
