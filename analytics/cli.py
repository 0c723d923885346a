"""`coaching` command line (SPEC-indicators "Command line contract").

Errors are one French line on stderr and a non-zero exit, never a traceback:
exit 2 for bad arguments, 1 for a refused extract or a missing database.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from datetime import date
from pathlib import Path


class CliError(Exception):
    """A user-facing error: printed as one line, exit status `code`."""

    def __init__(self, message: str, code: int = 1):
        super().__init__(message)
        self.code = code


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # argparse's own messages are English; keep the one line
        raise CliError(f"arguments invalides : {message} (voir « {self.prog} --help »)", 2)


def _date(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"date invalide « {value} » : attendu AAAA-MM-JJ") from None


def _year(value: str) -> int:
    if not value.isdigit() or not 2000 <= int(value) <= 2100:
        raise argparse.ArgumentTypeError(f"année invalide « {value} » : attendu AAAA, entre 2000 et 2100")
    return int(value)


def _positive(value: str) -> int:
    if not value.isdigit() or int(value) < 1:
        raise argparse.ArgumentTypeError(f"nombre invalide « {value} » : attendu un entier positif")
    return int(value)


def add_period_and_filters(p: argparse.ArgumentParser) -> None:
    p.add_argument("--db", help="base DuckDB (défaut : $COACHING_DB, sinon data/coaching.duckdb)")
    p.add_argument("--year", type=_year, help="année civile, ex. 2023")
    p.add_argument("--from", dest="date_from", type=_date, help="début de période AAAA-MM-JJ (inclus)")
    p.add_argument("--to", dest="date_to", type=_date, help="fin de période AAAA-MM-JJ (incluse)")
    p.add_argument("--commune", action="append", default=[], help="commune (répétable)")
    p.add_argument("--prescriber", action="append", default=[], help="prescripteur (répétable)")
    p.add_argument("--territory", action="append", default=[], help="territoire (répétable)")
    p.add_argument("--action", action="append", default=[], help="action (répétable)")
    p.add_argument("--epci", action="append", default=[], help="EPCI, nom officiel (répétable)")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="coaching", description="Indicateurs de l'action Coaching Emploi")
    sub = parser.add_subparsers(dest="command", parser_class=_Parser)

    imp = sub.add_parser("import", help="importer un extrait (dossier de CSV, participants.csv ou classeur .xlsx)")
    imp.add_argument("path")
    imp.add_argument("--db")
    imp.add_argument("--drop-identifying-columns", action="store_true",
                     help="supprimer les colonnes identifiantes (nom, téléphone…) au lieu de refuser l'extrait")

    ind = sub.add_parser("indicators", help="calculer les indicateurs d'une période")
    add_period_and_filters(ind)
    ind.add_argument("--json", action="store_true", help="sortie JSON (le seul format pour l'instant)")
    ind.add_argument("--clip", action="store_true",
                     help="arrêter la période à la date des données (clé data_date) si elle la dépasse : aucun mois "
                          "postérieur compté ; « period » est alors la période couverte, « requested_period » celle demandée")
    ind.add_argument("--suppress", type=_positive, metavar="K",
                     help="secret statistique : masquer (« < K ») les effectifs inférieurs à K, avec secret secondaire "
                          "(11 est le seuil usuel, voir analytics/diffusion/)")

    rep = sub.add_parser("report", help="produire un rapport : bilan .xlsx, pack COPIL .pdf ou suivi mensuel .csv")
    add_period_and_filters(rep)
    rep.add_argument("--out", required=True, help="fichier produit ; son extension choisit le format (.xlsx, .pdf, .csv)")
    rep.add_argument("--suppress", type=_positive, metavar="K",
                     help="secret statistique pour un rapport diffusé hors de l'association : effectifs inférieurs à K "
                          "masqués (« < K »), avec secret secondaire (11 : seuil usuel)")

    usr = sub.add_parser("user", help="gérer les comptes du tableau de bord (fichier local des utilisateurs)")
    users = usr.add_subparsers(dest="user_command", parser_class=_Parser)
    uadd = users.add_parser("add", help="créer un compte ; mot de passe demandé (ou lu sur l'entrée standard)")
    uadd.add_argument("name")
    uadd.add_argument("--role", required=True, choices=["admin", "direction", "analyste", "partenaire"])
    uadd.add_argument("--territory", action="append", default=[], help="territoire accordé (répétable ; « * » : tous)")
    uadd.add_argument("--action", action="append", default=[], help="action accordée (répétable ; défaut : toutes)")
    uadd.add_argument("--password-stdin", action="store_true", help="lire le mot de passe sur la première ligne de l'entrée standard")
    uadd.add_argument("--replace", action="store_true", help="remplacer un compte existant (rôle, droits, mot de passe)")
    uadd.add_argument("--users", help="fichier des utilisateurs (défaut : $COACHING_USERS, sinon data/users.json)")
    ulist = users.add_parser("list", help="lister les comptes (sans les mots de passe)")
    ulist.add_argument("--users")
    urm = users.add_parser("remove", help="supprimer un compte")
    urm.add_argument("name")
    urm.add_argument("--users")

    smp = sub.add_parser("sample", help="écrire l'extrait de référence (ou un extrait synthétique de N personnes)")
    smp.add_argument("--out", required=True)
    smp.add_argument("--participants", type=_positive, help="nombre de personnes d'un extrait synthétique")
    smp.add_argument("--seed", type=int, default=0)
    return parser


def period_from_args(args):
    from analytics.indicators import Period

    if args.year and (args.date_from or args.date_to):
        raise CliError("choisir --year ou --from/--to, pas les deux", 2)
    if args.year:
        return Period.year(args.year)
    if not (args.date_from and args.date_to):
        raise CliError("période manquante : indiquer --year AAAA ou --from AAAA-MM-JJ --to AAAA-MM-JJ", 2)
    if args.date_to < args.date_from:
        raise CliError("période invalide : --to précède --from", 2)
    return Period(args.date_from, args.date_to)


def filters_from_args(args):
    from analytics.indicators import Filters

    return Filters(tuple(args.commune), tuple(args.prescriber), tuple(args.territory), tuple(args.action), tuple(args.epci))


def open_store(db):
    from analytics.store import connect_readonly, db_path

    path = db_path(db)
    if not path.exists():
        raise CliError(f"base introuvable : {path} (lancer d'abord « coaching import DOSSIER --db {path} »)")
    try:
        return connect_readonly(path)
    except Exception as exc:
        raise CliError(f"base illisible : {path} ({str(exc).splitlines()[0]})") from None


def cmd_import(args) -> int:
    from analytics.extract import ExtractError
    from analytics.importer import run_import

    try:
        result = run_import(args.path, args.db, drop_identifying_columns=args.drop_identifying_columns)
    except ExtractError as exc:
        print(f"Extrait refusé : {len(exc.problems)} problème(s), la base n'a pas été modifiée.", file=sys.stderr)
        for p in exc.problems:
            print(f"- {p}", file=sys.stderr)
        return 1
    print(result.summary())
    return 0


def cmd_indicators(args) -> int:
    from analytics.indicators import compute_indicators

    from analytics.indicators import PeriodAfterData

    period, filters = period_from_args(args), filters_from_args(args)
    con = open_store(args.db)
    try:
        try:
            out = compute_indicators(con, period, filters, clip=args.clip)
        except PeriodAfterData as exc:
            raise CliError(str(exc), 2) from None
        if args.suppress:
            from analytics.diffusion import denominators, suppress_figures
            from analytics.indicators import dataset

            out = suppress_figures(out, args.suppress, denominators=denominators(dataset(con, period, filters, clip=args.clip)))
    finally:
        con.close()
    print(json.dumps(out, ensure_ascii=False, indent=2))
    return 0


def _report_target(value: str) -> Path:
    """The --out of `report`, checked before any computation: known suffix, writable folder."""
    from analytics.reports import SUFFIXES

    out = Path(value)
    if out.suffix.lower() not in SUFFIXES:
        found = f"« {out.suffix} »" if out.suffix else "sans extension"
        raise CliError(f"format de rapport inconnu ({found}) : --out doit finir par .xlsx, .pdf ou .csv", 2)
    if out.is_dir():
        raise CliError(f"impossible d'écrire « {out} » : c'est un dossier")
    folder = out.parent if str(out.parent) else Path(".")
    if not folder.is_dir():
        raise CliError(f"impossible d'écrire « {out} » : le dossier « {folder} » n'existe pas")
    if not os.access(folder, os.W_OK) or (out.exists() and not os.access(out, os.W_OK)):
        raise CliError(f"impossible d'écrire « {out} » : droits insuffisants")
    return out


def cmd_report(args) -> int:
    from analytics.indicators import PeriodAfterData
    from analytics.reports import write_report
    from analytics.reports.common import ReportError

    period, filters = period_from_args(args), filters_from_args(args)
    out = _report_target(args.out)
    con = open_store(args.db)
    # written beside the target, then renamed: a failed report never leaves half a file
    tmp = out.with_name(f".{out.stem}.{os.getpid()}.tmp{out.suffix}")
    try:
        summary = write_report(con, period, filters, tmp, suppress=args.suppress)
        os.replace(tmp, out)
        _audit("export", format=out.suffix.lstrip(".").lower(), diffusion=args.suppress)
    except ReportError as exc:
        raise CliError(f"rapport non produit : {exc}") from None
    except PeriodAfterData as exc:
        raise CliError(f"rapport non produit : {exc}", 2) from None
    except OSError as exc:
        raise CliError(f"impossible d'écrire « {out} » : {exc.strerror or exc}") from None
    finally:
        con.close()
        tmp.unlink(missing_ok=True)
    print(summary.replace(str(tmp), str(out)))
    return 0


def _password(args) -> str:
    import getpass

    if args.password_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    if not sys.stdin.isatty():
        raise CliError("pas de terminal pour demander le mot de passe : utiliser --password-stdin", 2)
    first = getpass.getpass("Mot de passe : ")
    if getpass.getpass("Mot de passe (confirmation) : ") != first:
        raise CliError("les deux mots de passe diffèrent", 2)
    return first


def _audit(event: str, **detail) -> None:
    """Record a command in the audit log; a log that cannot be written is reported, not fatal."""
    from analytics import audit

    try:
        audit.record(event, detail={"source": "cli", **detail})
    except OSError as exc:
        print(f"Attention : journal d'audit non écrit ({exc.strerror or exc}).", file=sys.stderr)


def cmd_user(args) -> int:
    from analytics.auth import AuthError, add_user, list_users, remove_user, users_path

    try:
        if args.user_command == "add":
            record = add_user(args.name, args.role, _password(args), args.territory, args.action, args.users, replace=args.replace)
            _audit("user_add", target_user=args.name, target_role=args.role)
            print(f"Compte « {args.name} » {'mis à jour' if args.replace else 'créé'} ({args.role} ; territoires : "
                  f"{', '.join(record['territories'])} ; actions : {', '.join(record['actions'])}) dans {users_path(args.users)}.")
        elif args.user_command == "list":
            found = list_users(args.users)
            for user in found:
                print(f"{user.name}\t{user.role}\tterritoires : {', '.join(user.territories)}\tactions : {', '.join(user.actions)}")
            if not found:
                print(f"Aucun compte dans {users_path(args.users)} : le tableau de bord est en mode local mono-utilisateur.")
        elif args.user_command == "remove":
            remove_user(args.name, args.users)
            _audit("user_remove", target_user=args.name)
            print(f"Compte « {args.name} » supprimé.")
        else:
            raise CliError("sous-commande manquante : add, list, remove (voir « coaching user --help »)", 2)
    except AuthError as exc:
        raise CliError(str(exc), 2) from None
    return 0


def cmd_sample(args) -> int:
    from analytics.sample import reference_extract, synthetic_extract, write_extract

    frames = synthetic_extract(args.participants, args.seed) if args.participants else reference_extract()
    write_extract(frames, Path(args.out))
    print(f"Extrait écrit dans {args.out} : " + ", ".join(f"{n} {k}" for k, n in ((k, v.height) for k, v in frames.items())))
    return 0


COMMANDS = {"import": cmd_import, "indicators": cmd_indicators, "report": cmd_report, "sample": cmd_sample, "user": cmd_user}


def main(argv: list[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(argv)
        if not args.command:
            raise CliError("commande manquante : import, indicators, report, sample, user (voir « coaching --help »)", 2)
        return COMMANDS[args.command](args)
    except CliError as exc:
        print(f"Erreur : {exc}", file=sys.stderr)
        return exc.code
    except KeyboardInterrupt:
        print("Interrompu.", file=sys.stderr)
        return 130
    except Exception as exc:  # last resort: one line, no traceback
        print(f"Erreur inattendue : {type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
