from apps.consents.models import Purpose


def purpose(code: str) -> Purpose:
    return Purpose.objects.get(code=code)
