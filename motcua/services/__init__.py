"""The application layer every interface calls: the HTTP API (`motcua.api`), the console
(`motcua.console`), the CLI and the tests are adapters over it.

`dossiers` (receive, submit online, act, view, the citizen's lookup) with their request bodies
(`requests`, typed by `text`, checked by `checks`) and answers (`views`), `listing` (work
queues from the read model), `whatif` (a policy cut), `idempotency` (a retried command
answers once), `engine` (bounded calls into Temporal) and `resources` (the process's client,
pool, catalog and calendar). Who may do what is `motcua.access`; failures are
`motcua.problems`.
"""
