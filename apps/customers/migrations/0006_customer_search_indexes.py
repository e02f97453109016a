"""Indexes for the staff's customer search (apps/customers/admin.py, CustomerAdmin.
get_search_results), PostgreSQL only.

Names and readings are searched by prefix of each word ("山田", "ヤマ"): a btree on UPPER(column)
with text_pattern_ops serves `UPPER(col) LIKE 'X%'` whatever the database's collation. A trigram
index would not: Japanese names are mostly two characters (no trigram), and pg_trgm skips
characters its locale does not call letters (all of Japanese under the C locale). E-mail is
matched exactly through the existing customer_email_ci_idx, phone exactly on its digits."""

from django.db import migrations

NAME_COLUMNS = ["family_name", "given_name", "family_name_kana", "given_name_kana"]

CREATE = [
    *(
        f"CREATE INDEX IF NOT EXISTS customer_{column}_prefix_idx "
        f"ON customers_customer (UPPER({column}) text_pattern_ops)"
        for column in NAME_COLUMNS
    ),
    "CREATE INDEX IF NOT EXISTS customer_phone_digits_idx "
    "ON customers_customer (REPLACE(phone, '-', ''))",
]
DROP = [
    *(f"DROP INDEX IF EXISTS customer_{column}_prefix_idx" for column in NAME_COLUMNS),
    "DROP INDEX IF EXISTS customer_phone_digits_idx",
]


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for statement in CREATE:
            schema_editor.execute(statement)


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for statement in DROP:
            schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [("customers", "0005_customer_acquired_via_subscription")]

    operations = [migrations.RunPython(create, drop)]
