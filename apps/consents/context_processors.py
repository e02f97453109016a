from apps.consents import cookies


def cookie_banner(request):
    choices = cookies.choices_for(request)
    return {"cookie_banner_needed": choices is None, "cookie_choices": choices or {}}
