#!/usr/bin/env bash
# Filtered 10-nearest in PostGIS on the same directory, filter and query
# points as the in-process `nearest_matching` bench, then the in-process
# figures, so the ratio comes from one run on one machine.
#
#   bash benches/postgis-knn.sh              # 1,000,000 providers (about 10 min on 2 cores)
#   COUNT=3200 bash benches/postgis-knn.sh   # a quick check of the script itself
#   KEEP=1 …                                 # keep the temp dir (data, answers, timings)
#
# What it does:
# 1. installs Debian's postgresql and postgis packages if PostGIS is missing
#    (needs root; as root the cluster runs as the `postgres` user);
# 2. builds the release binary and writes the directory with
#    `refmatch generate --count $COUNT --seed 2026`;
# 3. starts a throwaway cluster on 127.0.0.1:$PORT in a temp dir, loads id,
#    a geography point, a geometry point and the filter column (the
#    `languages` cell as text[]), with a GiST index on each point column;
# 4. runs the 1,000 queries (every 41st row of data/gazetteer/us_zip.csv,
#    as the bench) as `WHERE $CODE = ANY(languages) ORDER BY geog <-> point
#    LIMIT 10`, once for the answers (also the warm-up), then timed twice:
#    server-side (EXPLAIN (ANALYZE, TIMING OFF) "Execution Time": executor
#    only, no parse, plan or round trip) and client-side (one psql session
#    over TCP loopback with \timing: parse, plan, execute, round trip);
# 5. stops the cluster and runs `cargo bench --bench index` for the
#    in-process figures on the same data, and compares the answers.
#
# Results: benches/README.md, section "Filtered nearest".
set -euo pipefail

COUNT=${COUNT:-1000000}    # 1000000 or 3200: the sizes the in-process bench runs
SEED=2026
CODE=${CODE:-ar}           # the language code the bench filters on (FILTER in benches/index.rs)
PORT=${PORT:-54329}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}

LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
say() { printf '\n== %s\n' "$*" >&2; }
case $COUNT in 1000000 | 3200) ;; *) echo "COUNT must be 1000000 or 3200" >&2; exit 1 ;; esac

# --- 1. PostgreSQL and PostGIS -------------------------------------------
control=$(ls /usr/share/postgresql/*/extension/postgis.control 2>/dev/null | sort -V | tail -1 || true)
if [ -z "$control" ]; then
    say "installing Debian's postgresql and postgis"
    if [ "$(id -u)" != 0 ]; then
        echo "PostGIS is missing; run as root or: apt-get install -y postgresql postgis" >&2
        exit 1
    fi
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql postgis >&2
    control=$(ls /usr/share/postgresql/*/extension/postgis.control | sort -V | tail -1)
fi
PGVERSION=$(basename "$(dirname "$(dirname "$control")")")
PGBIN=/usr/lib/postgresql/$PGVERSION/bin
POSTGIS_PACKAGE=$(dpkg-query -W -f='${Package} ${Version}\n' "postgresql-$PGVERSION-postgis-3" 2>/dev/null || echo "postgis (not from dpkg)")

WORK=$(mktemp -d /tmp/refmatch-postgis.XXXXXX)
chmod 755 "$WORK"
if [ "$(id -u)" = 0 ]; then
    chown postgres: "$WORK"
    AS=(runuser -u postgres --)
else
    AS=()
fi
cleanup() {
    "${AS[@]}" "$PGBIN/pg_ctl" -D "$WORK/data" -m immediate stop >/dev/null 2>&1 || true
    if [ "${KEEP:-0}" = 1 ]; then echo "kept $WORK" >&2; else rm -rf "$WORK"; fi
}
trap cleanup EXIT

# --- 2. The directory and the query points -------------------------------
say "building the release binary; generating $COUNT providers (seed $SEED)"
(cd "$ROOT" && cargo build --release --quiet)
"$TARGET/release/refmatch" generate --count "$COUNT" --seed "$SEED" --out "$WORK/directory.csv"
awk -F, 'NR > 1 && (NR - 2) % 41 == 0 { print $1 "," $2 "," $3 }' "$ROOT/data/gazetteer/us_zip.csv" \
    | head -1000 > "$WORK/points.csv"
[ "$(wc -l < "$WORK/points.csv")" = 1000 ] || { echo "expected 1000 query points" >&2; exit 1; }
chmod -R a+r "$WORK"

# --- 3. Cluster and table ------------------------------------------------
say "starting PostgreSQL $PGVERSION on 127.0.0.1:$PORT in $WORK"
"${AS[@]}" "$PGBIN/initdb" -D "$WORK/data" -U postgres --auth=trust --no-sync >/dev/null
"${AS[@]}" "$PGBIN/pg_ctl" -D "$WORK/data" -l "$WORK/server.log" -w start -o \
    "-c listen_addresses=127.0.0.1 -p $PORT -k $WORK -c shared_buffers=1GB -c fsync=off \
     -c synchronous_commit=off -c full_page_writes=off -c jit=off -c max_parallel_workers_per_gather=0" >/dev/null
PSQL=("${AS[@]}" "$PGBIN/psql" -X -q -h 127.0.0.1 -p "$PORT" -U postgres -d postgres -v ON_ERROR_STOP=1)

say "loading $COUNT providers"
SECONDS=0
header=$(head -1 "$WORK/directory.csv")
columns=$(echo "$header" | tr ',' '\n' | sed 's/.*/"&" text/' | paste -sd, -)
"${PSQL[@]}" <<SQL
CREATE EXTENSION postgis;
CREATE UNLOGGED TABLE raw ($columns);
COPY raw FROM '$WORK/directory.csv' WITH (FORMAT csv, HEADER true);
CREATE TABLE providers AS
    SELECT id,
           ST_SetSRID(ST_MakePoint(lon::float8, lat::float8), 4326)::geography AS geog,
           ST_SetSRID(ST_MakePoint(lon::float8, lat::float8), 4326) AS geom,
           string_to_array(languages, ';') AS languages
    FROM raw WHERE lat <> '' AND lon <> '';
DROP TABLE raw;
CREATE INDEX providers_geog ON providers USING gist (geog);
CREATE INDEX providers_geom ON providers USING gist (geom);
VACUUM ANALYZE providers;
SQL
echo "load + index: $SECONDS s" >&2
"${PSQL[@]}" -At <<SQL >&2
SELECT 'rows ' || count(*) || ', pass ' || count(*) FILTER (WHERE '$CODE' = ANY(languages))
       || ' = ' || round(100.0 * count(*) FILTER (WHERE '$CODE' = ANY(languages)) / count(*), 3) || '%'
FROM providers;
SELECT 'table ' || pg_size_pretty(pg_table_size('providers')) || ', geography GiST '
       || pg_size_pretty(pg_relation_size('providers_geog')) || ', geometry GiST '
       || pg_size_pretty(pg_relation_size('providers_geom'))
FROM providers LIMIT 1;
SELECT postgis_full_version();
SQL

# --- 4. The queries ------------------------------------------------------
# One statement per point, ordered by $1 (geog or geom) and prefixed by $2;
# rows: query number (0-based), id, sphere distance in km.
queries() {
    local column=$1 prefix=$2 q=0 point
    while IFS=, read -r _zip lat lon; do
        point="'SRID=4326;POINT($lon $lat)'::$( [ "$column" = geog ] && echo geography || echo geometry)"
        echo "$prefix SELECT $q, id, round((ST_Distance(geog, 'SRID=4326;POINT($lon $lat)'::geography, false) / 1000)::numeric, 6) FROM providers WHERE '$CODE' = ANY(languages) ORDER BY $column <-> $point LIMIT 10;"
        q=$((q + 1))
    done < "$WORK/points.csv"
}
# Percentiles (nearest rank, as the bench) of a column of ms, printed in µs.
percentiles() {
    sort -g | awk -v label="$1" '{ v[NR] = $1; s += $1 }
        function at(q) { return v[int((NR - 1) * q + 0.5) + 1] * 1000 }
        END { printf "%-44s p50 %9.1f µs  p90 %9.1f µs  p99 %9.1f µs  max %9.1f µs  mean %9.1f µs  (%d queries)\n",
              label, at(0.5), at(0.9), at(0.99), at(1.0), s / NR * 1000, NR }'
}

say "plan of the first query"
queries geog "EXPLAIN (ANALYZE, COSTS OFF)" > "$WORK/plans.sql"
head -1 "$WORK/plans.sql" | "${PSQL[@]}" >&2

for column in geog geom; do
    queries "$column" "" > "$WORK/$column.sql"
    # The answers, which are also the warm-up pass.
    "${PSQL[@]}" -At -F, -f "$WORK/$column.sql" > "$WORK/$column.answers"
    queries "$column" "EXPLAIN (ANALYZE, TIMING OFF, COSTS OFF)" > "$WORK/$column.explain.sql"
    "${PSQL[@]}" -At -f "$WORK/$column.explain.sql" \
        | sed -n 's/^Execution Time: \([0-9.]*\) ms$/\1/p' > "$WORK/$column.server_ms"
    { echo '\timing on'; echo '\o /dev/null'; cat "$WORK/$column.sql"; } > "$WORK/$column.timed.sql"
    "${PSQL[@]}" -f "$WORK/$column.timed.sql" \
        | sed -n 's/^Time: \([0-9.]*\) ms.*$/\1/p' > "$WORK/$column.client_ms"
done
geog_server=$(percentiles "PostGIS geography, server execution" < "$WORK/geog.server_ms")
geog_client=$(percentiles "PostGIS geography, client (psql timing)" < "$WORK/geog.client_ms")
geom_server=$(percentiles "PostGIS geometry (planar lon/lat), server" < "$WORK/geom.server_ms")
geom_client=$(percentiles "PostGIS geometry (planar lon/lat), client" < "$WORK/geom.client_ms")
"${AS[@]}" "$PGBIN/pg_ctl" -D "$WORK/data" -w stop >/dev/null

# --- 5. In-process, same data --------------------------------------------
say "in-process: cargo bench --bench index -- '^nearest_matching/'"
bench_env=(REFMATCH_BENCH_RESULTS="$WORK/inprocess.csv")
[ "$COUNT" = 1000000 ] && bench_env+=(REFMATCH_BENCH_1M=1)
inprocess=$(cd "$ROOT" && env "${bench_env[@]}" cargo bench --bench index -- '^nearest_matching/' 2>&1 \
    | sed 's/\x1b\[[0-9;]*m//g' \
    | grep -E "^(per-query n=$COUNT |Directory::build n=$COUNT:|filter .* of $COUNT =|baseline rstar bulk load n=$COUNT:|nearest_matching/[a-z0-9_]+/[0-9]+)|point tree built located=$COUNT |^ +time:" || true)

# Same answers? Many generated providers share a ZIP or place centroid, so
# equal distances may come in either order, and PostGIS reads coordinates
# rounded to the CSV's 6 decimals: compare the id lists, and the distance
# lists rank by rank within 1 m.
awk -F, -v n="$COUNT" 'NR > 1 && $1 == n { print $2 "," $4 "," $5 }' "$WORK/inprocess.csv" > "$WORK/inprocess.answers"
compare() {
    awk -F, -v tolerance="$1" 'FNR == 1 { file++ }
        { rank[file, $1]++; key = $1 SUBSEP rank[file, $1]; id[file, key] = $2; km[file, key] = $3; queries[$1] = 1 }
        END {
            for (q in queries) {
                ok = rank[1, q] == rank[2, q]
                for (r = 1; ok && r <= rank[1, q]; r++) {
                    key = q SUBSEP r
                    d = km[1, key] - km[2, key]
                    ok = tolerance == "" ? id[1, key] == id[2, key] : (d < 0 ? -d : d) <= tolerance
                }
                same += ok
            }
            print same + 0
        }' "$WORK/inprocess.answers" "$WORK/geog.answers"
}
same_ids=$(compare "")
same_km=$(compare 0.001)

# --- Summary -------------------------------------------------------------
cat <<EOF

Filtered 10-nearest, $COUNT providers (refmatch generate --seed $SEED), language '$CODE',
1,000 ZIP centroids; $(date -u +%Y-%m-%d), $(nproc) cores, load average $LOAD_BEFORE at start, $(cut -d' ' -f1-3 /proc/loadavg) at end, $(awk -F: '/model name/ { print $2; exit }' /proc/cpuinfo | sed 's/^ *//'),
commit $(cd "$ROOT" && git rev-parse --short HEAD)$(cd "$ROOT" && git diff --quiet HEAD -- src benches || echo '+changes'), PostgreSQL $PGVERSION, $POSTGIS_PACKAGE

$geog_server
$geog_client
$geom_server
$geom_client
In-process (criterion 'time' = [low estimate high] per query):
$inprocess

Queries whose answers match PostGIS geography: same ids in the same order $same_ids of 1000;
same distances rank by rank within 1 m $same_km of 1000
EOF
