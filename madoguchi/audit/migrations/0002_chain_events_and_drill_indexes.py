# Hand-written: adds the hash chain (seq, prev_hash, hash, change digest), the chain head and
# the incident-drill indexes. Events written before this migration are numbered by id and
# chained, so the chain starts at the first event ever written.

from django.db import migrations, models

GENESIS_HASH = "0" * 64


def chain_existing_events(apps, schema_editor):
    from madoguchi.audit.chain import change_digest, event_hash

    AuditEvent = apps.get_model("audit", "AuditEvent")
    AuditChange = apps.get_model("audit", "AuditChange")
    ChainHead = apps.get_model("audit", "ChainHead")
    prev = GENESIS_HASH
    seq = 0
    for event in AuditEvent.objects.order_by("id").iterator(chunk_size=2000):
        seq += 1
        change = AuditChange.objects.filter(event_id=event.pk).first()
        event.seq = seq
        event.change_digest = change_digest(change.before, change.after) if change else ""
        event.prev_hash = prev
        event.hash = event_hash(event)
        event.save(update_fields=["seq", "change_digest", "prev_hash", "hash"])
        prev = event.hash
    ChainHead.objects.create(id=1, seq=seq, hash=prev)


class Migration(migrations.Migration):

    dependencies = [
        ('audit', '0001_initial_audit_events'),
    ]

    operations = [
        migrations.CreateModel(
            name='ChainHead',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('seq', models.BigIntegerField(default=0)),
                ('hash', models.CharField(default=GENESIS_HASH, max_length=64)),
            ],
        ),
        migrations.AddField(
            model_name='auditevent',
            name='seq',
            field=models.BigIntegerField(null=True),
        ),
        migrations.AddField(
            model_name='auditevent',
            name='change_digest',
            field=models.CharField(blank=True, default='', max_length=64),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name='auditevent',
            name='prev_hash',
            field=models.CharField(default='', max_length=64),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name='auditevent',
            name='hash',
            field=models.CharField(default='', max_length=64),
            preserve_default=False,
        ),
        migrations.RunPython(chain_existing_events, migrations.RunPython.noop),
        migrations.AlterField(
            model_name='auditevent',
            name='seq',
            field=models.BigIntegerField(unique=True),
        ),
        migrations.AlterModelOptions(
            name='auditevent',
            options={'ordering': ['seq']},
        ),
        migrations.AlterField(
            model_name='auditevent',
            name='action',
            field=models.CharField(choices=[('view', '閲覧'), ('search', '検索'), ('identify', '本人特定'), ('create', '作成'), ('update', '更新'), ('delete', '削除'), ('export', '出力'), ('print', '印刷'), ('import', '取込'), ('purge', '消去'), ('login', 'ログイン'), ('login_failed', 'ログイン失敗'), ('lockout', 'ロックアウト'), ('unlock', 'ロック解除'), ('logout', 'ログアウト'), ('denied', '権限なし'), ('address_refused', '接続元拒否'), ('role_change', '権限変更'), ('account_change', 'アカウント変更'), ('allowlist_change', '許可アドレス変更'), ('settings_change', '設定変更')], max_length=20),
        ),
        migrations.AlterField(
            model_name='auditevent',
            name='at',
            field=models.DateTimeField(),
        ),
        migrations.RemoveIndex(
            model_name='auditevent',
            name='audit_actor_at',
        ),
        migrations.RemoveIndex(
            model_name='auditevent',
            name='audit_object_at',
        ),
        migrations.AddIndex(
            model_name='auditevent',
            index=models.Index(fields=['at', 'seq'], name='audit_at_seq'),
        ),
        migrations.AddIndex(
            model_name='auditevent',
            index=models.Index(fields=['actor_id', 'at', 'seq'], name='audit_actor_at_seq'),
        ),
        migrations.AddIndex(
            model_name='auditevent',
            index=models.Index(fields=['object_type', 'object_id', 'at', 'seq'], name='audit_object_at_seq'),
        ),
        migrations.AddIndex(
            model_name='auditevent',
            index=models.Index(fields=['action', 'at', 'seq'], name='audit_action_at_seq'),
        ),
        migrations.AddIndex(
            model_name='auditevent',
            index=models.Index(fields=['client_ip', 'at', 'seq'], name='audit_ip_at_seq'),
        ),
        migrations.AddIndex(
            model_name='auditevent',
            index=models.Index(fields=['program_id', 'at', 'seq'], name='audit_program_at_seq'),
        ),
    ]
