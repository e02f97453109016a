from apps.consents import cookies


def cookie_banner(request):
    choices = getattr(request, "cookie_choices", None)
    if choices is None and not hasattr(request, "cookie_choices"):
        choices = cookies.read_choices(request)
    return {"cookie_banner_needed": choices is None, "cookie_choices": choices or {}}
