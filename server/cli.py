"""``casework server ...``: serve, migrate, seed and manage users."""

from __future__ import annotations

import argparse
import getpass
import sys

from sqlalchemy import Engine, func, select, update
from sqlalchemy.exc import OperationalError, SQLAlchemyError

from server import db


class Failure(Exception):
    """Reported as one line on stderr with exit status 1."""


def _engine(args: argparse.Namespace, *, migrate: bool = True) -> Engine:
    url = args.database_url or db.default_database_url()
    try:
        engine = db.make_engine(url)
        if migrate:
            db.migrate(engine)
        return engine
    except db.DatabaseURLError as error:
        raise Failure(str(error)) from None
    except OperationalError as error:
        raise _unreachable(error) from None


def _unreachable(error: OperationalError) -> Failure:
    reason = str(error.orig or error).strip().splitlines()[0]
    return Failure(f"cannot open the database: {reason}")


def run(args: argparse.Namespace) -> int:
    commands = {"serve": serve, "migrate": migrate, "seed": seed, "users": users}
    try:
        commands[args.server_command](args)
        return 0
    except Failure as error:
        print(f"casework server: {error}", file=sys.stderr)
        return 1
    except SQLAlchemyError as error:
        print(f"casework server: database error: {str(error).splitlines()[0]}", file=sys.stderr)
        return 1


def serve(args: argparse.Namespace) -> None:
    import uvicorn

    from server.app import create_app

    url = args.database_url or db.default_database_url()
    try:
        app = create_app(url)
    except db.DatabaseURLError as error:
        raise Failure(str(error)) from None
    except OperationalError as error:
        raise _unreachable(error) from None
    print(f"casework Case API on http://{args.host}:{args.port}/v1 ({app.state.engine.dialect.name})", flush=True)
    config = uvicorn.Config(app, host=args.host, port=args.port, log_level="warning", access_log=False)
    server = uvicorn.Server(config)
    server.run()
    if not server.started:
        raise Failure(f"could not listen on {args.host}:{args.port} (is something else using that port?)")


def migrate(args: argparse.Namespace) -> None:
    engine = _engine(args, migrate=False)
    try:
        revision = db.migrate(engine)
    except OperationalError as error:
        raise _unreachable(error) from None
    print(f"database schema is at revision {revision}")


def seed(args: argparse.Namespace) -> None:
    from server.seed import SeedError, seed as run_seed

    engine = _engine(args, migrate=not args.fresh)
    if args.fresh:
        db.reset(engine)
        db.migrate(engine)
    try:
        report = run_seed(engine, cases=args.cases, seed=args.seed, progress=lambda line: print(line, flush=True))
    except SeedError as error:
        raise Failure(str(error)) from None
    print(f"seeded {report.cases} cases, {report.people} people, {report.events} chronology events, "
          f"{report.tasks} tasks and {report.users} users in {report.seconds:.1f} s")
    print("demo sign-ins (username / password / role):")
    for username, password, role in report.demo_logins:
        print(f"  {username:<10} {password:<6} {role}")


def users(args: argparse.Namespace) -> None:
    from server.auth import hash_password, revoke_user_tokens
    from server.clock import now_iso
    from server.tables import changes, users as users_table

    engine = _engine(args)
    with engine.begin() as conn:
        if args.users_command == "list":
            rows = conn.execute(select(users_table).order_by(users_table.c.username)).mappings().all()
            print(f"{'username':<20} {'role':<13} {'active':<7} {'team':<28} name")
            for r in rows:
                print(f"{r['username']:<20} {r['role']:<13} {'yes' if r['active'] else 'no':<7} "
                      f"{r['team']:<28} {r['display_name']}")
            return
        found = conn.execute(select(users_table).where(users_table.c.username == args.username)).mappings().first()
        if args.users_command == "add":
            if found:
                raise Failure(f"the username {args.username} is taken")
            from pydantic import ValidationError

            from server.schemas import UserCreate

            password = args.password or _ask_password()
            try:
                body = UserCreate(username=args.username, display_name=args.display_name, role=args.role,
                                  team=args.team, password=password)
            except ValidationError as error:
                first = error.errors()[0]
                raise Failure(f"{'.'.join(map(str, first['loc']))}: {first['msg']}") from None
            new_id = conn.execute(users_table.insert().values(
                username=body.username, display_name=body.display_name, role=body.role, team=body.team,
                active=True, password_hash=hash_password(body.password), version=1, created_at=now_iso(),
            )).inserted_primary_key[0]
            conn.execute(changes.insert().values(type="user", entity_id=new_id, version=1, at=now_iso()))
            print(f"added {body.username} ({body.role}, {body.team})")
            return
        if found is None:
            raise Failure(f"there is no user {args.username}")
        values: dict[str, object] = {}
        if args.users_command == "disable":
            values["active"] = False
        else:
            values["role"] = args.role
            if args.team:
                values["team"] = args.team
        if found["role"] == "admin" and (values.get("active") is False or values.get("role", "admin") != "admin"):
            admins = conn.execute(select(func.count()).select_from(users_table).where(
                users_table.c.role == "admin", users_table.c.active.is_(True))).scalar_one()
            if admins <= 1:
                raise Failure(f"{args.username} is the last active administrator; make another admin first")
        version = found["version"] + 1
        conn.execute(update(users_table).where(users_table.c.id == found["id"]).values(**values, version=version))
        revoke_user_tokens(conn, found["id"])
        conn.execute(changes.insert().values(type="user", entity_id=found["id"], version=version, at=now_iso()))
        print(f"{args.username}: " + ", ".join(f"{k} = {v}" for k, v in values.items()))


def _ask_password() -> str:
    if not sys.stdin.isatty():
        raise Failure("give --password, or run this in a terminal to be asked for one")
    first = getpass.getpass("password for the new user: ")
    if first != getpass.getpass("again: "):
        raise Failure("the two passwords differ")
    return first
