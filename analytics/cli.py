"""`coaching` command line (SPEC-indicators "Command line contract").

Errors are one French line on stderr and a non-zero exit, never a traceback:
exit 2 for bad arguments, 1 for a refused extract or a missing database.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading
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


def add_store(p: argparse.ArgumentParser) -> None:
    p.add_argument("--db", help="base : fichier DuckDB, ou base partagée « ducklake:postgres:<chaîne de connexion> » "
                                "(défaut : $COACHING_DB, sinon data/coaching.duckdb)")
    p.add_argument("--data-path", help="base partagée : dossier (ou stockage objet) de ses fichiers de données "
                                       "(défaut : $COACHING_DATA_PATH)")


def _as_of(p: argparse.ArgumentParser) -> None:
    p.add_argument("--as-of", type=_positive, metavar="N",
                   help="les chiffres tels qu'ils étaient juste après l'import n° N (voir « coaching history »)")


def add_period_and_filters(p: argparse.ArgumentParser) -> None:
    add_store(p)
    p.add_argument("--year", type=_year, help="année civile, ex. 2023")
    p.add_argument("--from", dest="date_from", type=_date, help="début de période AAAA-MM-JJ (inclus)")
    p.add_argument("--to", dest="date_to", type=_date, help="fin de période AAAA-MM-JJ (incluse)")
    p.add_argument("--commune", action="append", default=[], help="commune (répétable)")
    p.add_argument("--prescriber", action="append", default=[], help="prescripteur (répétable)")
    p.add_argument("--territory", action="append", default=[], help="territoire (répétable)")
    p.add_argument("--action", action="append", default=[], help="action (répétable)")
    p.add_argument("--epci", action="append", default=[], help="EPCI, nom officiel (répétable)")
    p.add_argument("--type", dest="typology", action="append", default=[], type=_positive,
                   help="type de la typologie des publics, son numéro (répétable ; voir « coaching typology »)")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="coaching", description="Indicateurs de l'action Coaching Emploi")
    sub = parser.add_subparsers(dest="command", parser_class=_Parser)

    imp = sub.add_parser("import", help="importer un extrait (dossier de CSV, participants.csv ou classeur .xlsx)")
    imp.add_argument("path")
    add_store(imp)
    imp.add_argument("--drop-identifying-columns", action="store_true",
                     help="supprimer les colonnes identifiantes (nom, téléphone…) au lieu de refuser l'extrait")
    imp.add_argument("--mapping", metavar="PROFIL.json",
                     help="profil de correspondance d'un fichier à votre format (feuilles, colonnes, libellés ; voir SPEC-extract v2)")

    ind = sub.add_parser("indicators", help="calculer les indicateurs d'une période")
    add_period_and_filters(ind)
    ind.add_argument("--json", action="store_true", help="sortie JSON (le seul format pour l'instant)")
    ind.add_argument("--clip", action="store_true",
                     help="arrêter la période à la date des données (clé data_date) si elle la dépasse : aucun mois "
                          "postérieur compté ; « period » est alors la période couverte, « requested_period » celle demandée")
    ind.add_argument("--by", choices=["year", "quarter", "month"],
                     help="série : les indicateurs de chaque année, trimestre ou mois civil de la période (bornés à la période)")
    _as_of(ind)
    ind.add_argument("--suppress", type=_positive, metavar="K",
                     help="secret statistique : masquer (« < K ») les effectifs inférieurs à K, avec secret secondaire "
                          "(11 est le seuil usuel, voir analytics/diffusion/)")

    prj = sub.add_parser("projection", help="prévoir la file active des prochains mois et les prescriptions nécessaires")
    add_store(prj)
    prj.add_argument("--at", required=True, type=_date, help="date de la prévision AAAA-MM-JJ : rien de postérieur n'est utilisé")
    prj.add_argument("--months", type=_positive, default=6, help="nombre de mois prévus après le mois de --at (défaut : 6)")
    for name, help_ in (("--commune", "commune"), ("--prescriber", "prescripteur"), ("--territory", "territoire"),
                        ("--action", "action"), ("--epci", "EPCI, nom officiel")):
        prj.add_argument(name, action="append", default=[], help=f"{help_} (répétable)")
    prj.add_argument("--json", action="store_true", help="sortie JSON (le seul format pour l'instant)")

    typ = sub.add_parser("typology", help="typologie des publics : types des participants de la période et leurs sorties")
    add_period_and_filters(typ)
    _as_of(typ)
    typ.add_argument("--persons", action="store_true", help="ajouter le type de chaque participant (clé : id_participant)")
    typ.add_argument("--json", action="store_true", help="sortie JSON (le seul format pour l'instant)")
    typ.add_argument("--suppress", type=_positive, metavar="K",
                     help="secret statistique : types de moins de K personnes regroupés, effectifs et taux masqués")

    rep = sub.add_parser("report", help="produire un rapport : bilan .xlsx, pack COPIL .pdf ou suivi mensuel .csv")
    add_period_and_filters(rep)
    rep.add_argument("--out", required=True, help="fichier produit ; son extension choisit le format (.xlsx, .pdf, .csv)")
    _as_of(rep)
    rep.add_argument("--suppress", type=_positive, metavar="K",
                     help="secret statistique pour un rapport diffusé hors de l'association : effectifs inférieurs à K "
                          "masqués (« < K »), avec secret secondaire (11 : seuil usuel)")

    his = sub.add_parser("history", help="lister les imports de la base (numéro, date, fichier source, effectifs)")
    add_store(his)
    his.add_argument("--json", action="store_true", help="sortie JSON")

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
    uunl = users.add_parser("unlock", help="déverrouiller un compte bloqué après trop d'échecs de connexion")
    uunl.add_argument("name")
    uunl.add_argument("--users")

    tpl = sub.add_parser("template", help="écrire le modèle de tableau de suivi (.xlsx à listes déroulantes) qui s'importe tel quel")
    tpl.add_argument("--out", required=True, help="classeur produit, ex. modele.xlsx")

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

    return Filters(tuple(args.commune), tuple(args.prescriber), tuple(args.territory), tuple(args.action), tuple(args.epci),
                   tuple(getattr(args, "typology", None) or ()))


def _location(args):
    """--db (and --data-path for a shared store) as given, checked."""
    from analytics.lake import LakeError
    from analytics.store import db_path

    if getattr(args, "data_path", None):
        os.environ["COACHING_DATA_PATH"] = args.data_path
    try:
        return db_path(args.db)
    except LakeError as exc:
        raise CliError(str(exc), 2) from None


def open_store(args, as_of: int | None = None):
    from analytics.lake import LakeError
    from analytics.store import HistoryError, connect_readonly

    path = _location(args)
    try:
        if not path.exists():
            raise CliError(f"base introuvable : {path} (lancer d'abord « coaching import DOSSIER --db {path} »)")
        return connect_readonly(path, as_of=as_of)
    except (HistoryError, LakeError) as exc:
        raise CliError(str(exc)) from None
    except CliError:
        raise
    except Exception as exc:
        raise CliError(f"base illisible : {path} ({str(exc).splitlines()[0]})") from None


PROGRESS_AFTER_S = 2.0  # an import that lasts longer says where it is, on stderr


def _progress_printer(after: float = PROGRESS_AFTER_S, every: float = 5.0):
    """A `progress(share, text)` callback printing « [ 42 %] text » on stderr: nothing for the first `after`
    seconds (a small extract imports silently), then at a new phase or every `every` seconds."""
    import time

    start, state = time.monotonic(), {"last": 0.0, "phase": None}

    def show(share: float, text: str) -> None:
        now = time.monotonic()
        phase = text.split(" :")[0]
        if now - start < after or (phase == state["phase"] and now - state["last"] < every and share < 1.0):
            return
        state.update(last=now, phase=phase)
        print(f"[{share * 100:3.0f} %] {text}", file=sys.stderr, flush=True)

    return show


def cmd_import(args) -> int:
    from analytics.extract import ExtractError
    from analytics.importer import run_import
    from analytics.lake import LakeError

    from analytics.mapping import Profile

    profile = None
    if args.mapping:
        try:
            profile = Profile.load(args.mapping)
        except FileNotFoundError:
            raise CliError(f"profil introuvable : {args.mapping}", 2) from None
        except ValueError as exc:
            raise CliError(f"{exc} ({args.mapping})", 2) from None
    location = _location(args)
    try:
        result = run_import(args.path, location, drop_identifying_columns=args.drop_identifying_columns, mapping=profile,
                            progress=_progress_printer())
    except LakeError as exc:
        raise CliError(f"import impossible, la base n'a pas été modifiée : {exc}") from None
    except ExtractError as exc:
        print(f"Extrait refusé : {len(exc.problems)} problème(s), la base n'a pas été modifiée.", file=sys.stderr)
        for p in exc.problems:
            print(f"- {p}", file=sys.stderr)
        return 1
    print(result.summary())
    return 0


def cmd_indicators(args) -> int:
    from analytics.indicators import PeriodAfterData, compute_indicators

    period, filters = period_from_args(args), filters_from_args(args)
    con = open_store(args, args.as_of)
    try:
        check_typology_filter(con, filters)

        def suppress(figures: dict, sub) -> dict:
            from analytics.diffusion import denominators, suppress_figures
            from analytics.indicators import dataset

            return suppress_figures(figures, args.suppress, denominators=denominators(dataset(con, sub, filters, clip=args.clip)))

        try:
            if args.by:
                from analytics.indicators.series import series

                out = series(con, period, filters, args.by, suppress if args.suppress else None)
            else:
                out = compute_indicators(con, period, filters, clip=args.clip)
                if args.suppress:
                    out = suppress(out, period)
        except PeriodAfterData as exc:
            raise CliError(str(exc), 2) from None
    finally:
        con.close()
    print(json.dumps(out, ensure_ascii=False, indent=2))
    return 0


def cmd_projection(args) -> int:
    from analytics.indicators.projection import projection

    if args.months > 36:
        raise CliError("--months : 36 mois au plus", 2)
    filters = filters_from_args(args)
    con = open_store(args)
    try:
        out = projection(con, args.at, args.months, filters)
    finally:
        con.close()
    print(json.dumps(out, ensure_ascii=False, indent=2))
    return 0


def check_typology_filter(con, filters) -> None:
    """A --type filter needs the typology stored by the last import, and known type numbers."""
    if not filters.typology:
        return
    from analytics import typology

    found = typology.load(con)
    if not found.available:
        raise CliError(f"filtre --type impossible : {found.message}")
    unknown = sorted(set(filters.typology) - set(found.types["type"].to_list()))
    if unknown:
        raise CliError(f"type inconnu : {', '.join(map(str, unknown))} (types de la base : "
                       f"{', '.join(map(str, found.types['type'].to_list()))})", 2)


def cmd_typology(args) -> int:
    from analytics.typology.outcomes import contract

    period, filters = period_from_args(args), filters_from_args(args)
    con = open_store(args, args.as_of)
    try:
        check_typology_filter(con, filters)
        try:
            out = contract(con, period, filters, persons=args.persons, suppress_k=args.suppress)
        except ValueError as exc:
            raise CliError(str(exc)) from None
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
    con = open_store(args, args.as_of)
    check_typology_filter(con, filters)
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


def cmd_history(args) -> int:
    from analytics.store import import_history

    con = open_store(args)
    try:
        rows = import_history(con).sort("import_id")
    finally:
        con.close()
    entries = [{"import": r["import_id"], "imported_at": r["imported_at"].isoformat() if r["imported_at"] else None,
                "file_name": r["file_name"], "participants": r["n_participants"], "rendez_vous": r["n_rendez_vous"],
                "immersions": r["n_immersions"], "new": r["n_new"], "updated": r["n_updated"], "unchanged": r["n_unchanged"]}
               for r in rows.iter_rows(named=True) if r["status"] == "importé"]
    if args.json:
        print(json.dumps(entries, ensure_ascii=False, indent=2))
        return 0
    if not entries:
        print("Aucun import dans cette base.")
    for e in entries:
        when = e["imported_at"].replace("T", " ") if e["imported_at"] else "?"
        print(f"import n° {e['import']}\t{when}\t{e['file_name']}\t{e['participants']} personnes, {e['rendez_vous']} rendez-vous, "
              f"{e['immersions']} immersions ({e['new']} nouvelles, {e['updated']} mises à jour)")
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
    from analytics import login_store
    from analytics.auth import AuthError, add_user, list_users, remove_user, users_path

    store = login_store.store_path(users=args.users)
    try:
        if args.user_command == "add":
            record = add_user(args.name, args.role, _password(args), args.territory, args.action, args.users, replace=args.replace)
            _audit("user_add", target_user=args.name, target_role=args.role)
            print(f"Compte « {args.name} » {'mis à jour' if args.replace else 'créé'} ({args.role} ; territoires : "
                  f"{', '.join(record['territories'])} ; actions : {', '.join(record['actions'])}) dans {users_path(args.users)}.")
        elif args.user_command == "list":
            found = list_users(args.users)
            locked = {lock.key: lock for lock in login_store.locks(path=store) if lock.kind == "account"} if store.exists() else {}
            for user in found:
                lock = locked.get(user.name)
                print(f"{user.name}\t{user.role}\tterritoires : {', '.join(user.territories)}\tactions : {', '.join(user.actions)}"
                      + (f"\tverrouillé (encore {lock.minutes_left()} min)" if lock else ""))
            if not found:
                print(f"Aucun compte dans {users_path(args.users)} : le tableau de bord est en mode local mono-utilisateur.")
        elif args.user_command == "remove":
            remove_user(args.name, args.users)
            _audit("user_remove", target_user=args.name)
            print(f"Compte « {args.name} » supprimé.")
        elif args.user_command == "unlock":
            was = login_store.unlock(args.name, path=store)
            _audit("user_unlock", target_user=args.name)
            print(f"Compte « {args.name} » déverrouillé." if was else
                  f"Le compte « {args.name} » n'était pas verrouillé (ses échecs de connexion sont oubliés).")
        else:
            raise CliError("sous-commande manquante : add, list, remove, unlock (voir « coaching user --help »)", 2)
    except AuthError as exc:
        raise CliError(str(exc), 2) from None
    return 0


def cmd_sample(args) -> int:
    from analytics.sample import reference_extract, write_extract
    from analytics.synthetic import write_synthetic

    if args.participants:  # written chunk by chunk: memory stays bounded whatever the size
        from analytics.fmt import number
        from analytics.synthetic import CHUNK_PERSONS

        def progress(done: int, total: int) -> None:
            if total > CHUNK_PERSONS:  # several chunks: say how far it is
                print(f"  {number(done)} / {number(total)} personnes écrites", file=sys.stderr, flush=True)

        counts = write_synthetic(args.participants, Path(args.out), args.seed, progress=progress)
    else:
        frames = reference_extract()
        write_extract(frames, Path(args.out))
        counts = {k: v.height for k, v in frames.items()}
    print(f"Extrait écrit dans {args.out} : " + ", ".join(f"{n} {k}" for k, n in counts.items()))
    return 0


def cmd_template(args) -> int:
    from analytics.template import write_template

    out = Path(args.out)
    if out.suffix.lower() != ".xlsx":
        raise CliError(f"format non pris en charge : « {out.name} » (le modèle est un classeur .xlsx)", 2)
    if not out.parent.exists():
        raise CliError(f"dossier introuvable : {out.parent}", 2)
    write_template(out)
    print(f"Modèle de tableau de suivi écrit dans {out}")
    return 0


COMMANDS = {"import": cmd_import, "template": cmd_template, "indicators": cmd_indicators, "projection": cmd_projection,
            "report": cmd_report, "sample": cmd_sample, "typology": cmd_typology, "user": cmd_user,
            "history": cmd_history}


class Terminated(KeyboardInterrupt):
    """SIGTERM, turned into an interruption so that an import cleans up (its staging folder, its copy of the store)
    as on Ctrl-C instead of dying on the spot."""


def _terminate(signum, frame):
    raise Terminated()


def main(argv: list[str] | None = None) -> int:
    args = None
    previous = None
    if threading.current_thread() is threading.main_thread():
        previous = signal.signal(signal.SIGTERM, _terminate)
    try:
        args = build_parser().parse_args(argv)
        if not args.command:
            raise CliError("commande manquante : import, indicators, projection, report, history, sample, template, typology, "
                           "user (voir « coaching --help »)", 2)
        return COMMANDS[args.command](args)
    except CliError as exc:
        print(f"Erreur : {exc}", file=sys.stderr)
        return exc.code
    except KeyboardInterrupt as exc:
        if getattr(args, "command", None) == "import":
            from analytics import staging

            staging.remove_own()  # whatever point the interruption reached
            print("Import interrompu : la base n'a pas été modifiée.", file=sys.stderr)
        else:
            print("Interrompu.", file=sys.stderr)
        return 143 if isinstance(exc, Terminated) else 130
    except BrokenPipeError:  # the reader of the output went away (`coaching … --json | head`): nothing to say
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())  # no second error when Python flushes stdout at exit
        return 0
    except Exception as exc:  # last resort: one line, no traceback
        print(f"Erreur inattendue : {type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}", file=sys.stderr)
        return 1
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


if __name__ == "__main__":
    sys.exit(main())
