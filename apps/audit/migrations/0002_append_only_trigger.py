"""On PostgreSQL, the database itself refuses to change or delete access-log rows, whoever
connects: a trigger raises on UPDATE and DELETE. (Other databases rely on the model's refusal.)
"""

from django.db import migrations

from apps.core.append_only import append_only_trigger


class Migration(migrations.Migration):
    dependencies = [("audit", "0001_initial")]

    operations = [append_only_trigger("audit_accesslog")]
