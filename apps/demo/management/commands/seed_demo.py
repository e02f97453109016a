from django.core.management.base import BaseCommand

from apps.demo.services import demo_seed


class Command(BaseCommand):
    help = "Load demo data (idempotent) and print the demo logins."

    def add_arguments(self, parser):
        parser.add_argument("--customers", type=int, default=300)

    def handle(self, *args, **options):
        result = demo_seed(crowd=options["customers"])
        self.stdout.write(
            f"Demo data ready ({result['crowd_added']} customers, {result['audience_added']} "
            f"subscribers, {result['campaigns_added']} campaigns sent, "
            f"{result['inquiries_added']} inquiries added)."
        )
        for name, counts in result["parts"].items():
            added = ", ".join(f"{key} {value}" for key, value in counts.items())
            self.stdout.write(f"  {name}: {added}")
        self.stdout.write(f"Demo logins (password for all: {result['password']}):")
        for email, role in result["staff"]:
            self.stdout.write(f"  staff   {email:<24} {role}   http://127.0.0.1:8000/admin/")
        self.stdout.write(
            f"  member  {result['member']:<24} My Page  http://127.0.0.1:8000/mypage/"
        )
