"""The app database: connection, migrations, reader roles, query log, users."""
