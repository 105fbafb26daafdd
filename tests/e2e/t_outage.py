"""Database outage: while PostgreSQL refuses connections the API
answers 503 in Zadig shape, then recovers by itself.

The outage is made by closing the test database to new connections (ALLOW_CONNECTIONS false, from a maintenance
database) and terminating the responder's open sessions; it is always undone in a finally block, and the tests
end only once reads and writes work again, so the module may run anywhere in the suite.
"""

import time
from contextlib import contextmanager

from lib import (COLLECTION, assert_error, assert_ok_json, assert_success, body, db_dump, item_path, psql, request,
                 reset)

RECOVERY_SECONDS = 15


def database_name():
    """The database the tests (and the responder) use."""
    return psql("SELECT current_database();").strip()


@contextmanager
def database_down():
    """Close the test database to new sessions and end the existing ones; reopen it on exit."""
    name = database_name()
    admin_db = "template1" if name == "postgres" else "postgres"
    psql('ALTER DATABASE :"p1" ALLOW_CONNECTIONS false;', name, database=admin_db)
    try:
        psql("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
             "WHERE datname = :'p1' AND pid <> pg_backend_pid();", name, database=admin_db)
        yield
    finally:
        psql('ALTER DATABASE :"p1" ALLOW_CONNECTIONS true;', name, database=admin_db)


def wait_until_serving():
    """Bounded poll: True once GET of the collection answers 200 within RECOVERY_SECONDS."""
    deadline = time.monotonic() + RECOVERY_SECONDS
    while time.monotonic() < deadline:
        if request("GET", COLLECTION).status == 200:
            return True
        time.sleep(0.2)
    return False


def insert_by_hand(address):
    """Set-up through psql, not the API: after an outage the API itself is what is under test."""
    psql("INSERT INTO registry(address, provider, namespace) VALUES (:'p1', 'harbor', 'outage');", address)
    return psql("SELECT id FROM registry WHERE address = :'p1';", address).strip()


def test_outage_get_is_503():
    """GET of the list while the database is unreachable is 503 Service Unavailable in Zadig shape."""
    reset()
    insert_by_hand("https://get.example.com")
    try:
        with database_down():
            assert_error(request("GET", COLLECTION), 503)
    finally:
        wait_until_serving()


def test_outage_writes_are_503_and_change_nothing():
    """POST, PUT and DELETE while the database is unreachable are 503, and the table is as before once it is back."""
    reset()
    registry_id = insert_by_hand("https://write.example.com")
    before = db_dump()
    try:
        with database_down():
            assert_error(request("POST", COLLECTION, body(namespace="lost")), 503)
            assert_error(request("PUT", item_path(registry_id), body(namespace="lost")), 503)
            assert_error(request("DELETE", item_path(registry_id)), 503)
    finally:
        wait_until_serving()
    assert db_dump() == before, "a request answered 503 changed the table"


def test_reads_recover_after_outage():
    """As soon as the database accepts connections again, every GET is 200: workers reconnect by themselves."""
    reset()
    insert_by_hand("https://read.example.com")
    with database_down():
        request("GET", COLLECTION)
    for _ in range(24):
        assert_ok_json(request("GET", COLLECTION))


def test_writes_recover_after_outage():
    """As soon as the database is back, every PUT is 200: a session the server ended (57P01) is reconnected and
    the statement, which never ran, is retried rather than answered 503."""
    reset()
    registry_id = insert_by_hand("https://rewrite.example.com")
    with database_down():
        request("GET", COLLECTION)
    for i in range(24):
        assert_success(request("PUT", item_path(registry_id), body(namespace=f"after-{i}")))
