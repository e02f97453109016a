from django.contrib import messages
from django.core.exceptions import ValidationError


class ServiceActionsMixin:
    """Admin actions that call a service once per selected object: a refusal (ValidationError)
    is shown for that object and the others go on."""

    def apply_service(self, request, queryset, apply, done_message, *, label=str) -> int:
        done = 0
        for obj in queryset.order_by("pk"):
            try:
                apply(obj)
            except ValidationError as exc:
                self.message_user(
                    request, f"{label(obj)}: {' '.join(exc.messages)}", messages.ERROR
                )
            else:
                done += 1
        if done:
            self.message_user(request, f"{done_message} ({done})", messages.SUCCESS)
        return done
