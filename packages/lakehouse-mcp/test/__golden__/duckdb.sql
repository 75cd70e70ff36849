-- types
boolean → BOOLEAN (portable: BOOLEAN)
-- int16 → SMALLINT (portable: SMALLINT)
-- int32 → INTEGER (portable: INTEGER)
-- int64 → BIGINT (portable: BIGINT)
-- float32 → FLOAT (portable: FLOAT)
-- float64 → DOUBLE (portable: DOUBLE)
-- decimal → DECIMAL(12,2) (portable: DECIMAL(12,2))
-- text → VARCHAR (portable: VARCHAR)
-- date → DATE (portable: DATE)
-- time → TIME (portable: VARCHAR)
-- timetz → TIMETZ (portable: VARCHAR)
-- timestamp → TIMESTAMP (portable: TIMESTAMP)
-- timestamptz → TIMESTAMPTZ (portable: TIMESTAMPTZ)
-- interval → INTERVAL (portable: VARCHAR)
-- uuid → UUID (portable: VARCHAR)
-- json → JSON (portable: VARCHAR)
-- binary → BLOB (portable: BLOB)
-- list → INTEGER[] (portable: INTEGER[]);

-- bootstrap
CREATE SCHEMA IF NOT EXISTS bronze;
CREATE SCHEMA IF NOT EXISTS silver;
CREATE SCHEMA IF NOT EXISTS gold;
CREATE SCHEMA IF NOT EXISTS _meta;
CREATE TABLE IF NOT EXISTS _meta.connections (name VARCHAR, kind VARCHAR, host VARCHAR, port INTEGER,
  database VARCHAR, user_name VARCHAR, ssl_mode VARCHAR, created_at TIMESTAMPTZ, updated_at TIMESTAMPTZ);
CREATE TABLE IF NOT EXISTS _meta.sync_runs (run_id VARCHAR, kind VARCHAR, connection VARCHAR, source VARCHAR,
  target_layer VARCHAR, target_name VARCHAR, mode VARCHAR, status VARCHAR, started_at TIMESTAMPTZ,
  finished_at TIMESTAMPTZ, rows BIGINT, bytes BIGINT, duration_ms BIGINT, watermark VARCHAR, error VARCHAR);
CREATE TABLE IF NOT EXISTS _meta.sync_state (target VARCHAR, connection VARCHAR, source VARCHAR,
  cursor_column VARCHAR, key_columns VARCHAR, watermark VARCHAR, updated_at TIMESTAMPTZ);
ALTER TABLE _meta.sync_state ADD COLUMN IF NOT EXISTS source_snapshot VARCHAR;
CREATE TABLE IF NOT EXISTS _meta.lineage (target_layer VARCHAR, target_name VARCHAR, kind VARCHAR,
  inputs VARCHAR, definition VARCHAR, recorded_at TIMESTAMPTZ);
CREATE OR REPLACE VIEW _meta.uploads AS SELECT run_id, source AS file, target_name AS "table", rows, bytes,
  finished_at AS uploaded_at FROM _meta.sync_runs WHERE kind = 'upload' AND status = 'succeeded';;

-- create staging
CREATE TABLE IF NOT EXISTS "bronze"."_stage_1_x" ("id" BIGINT NOT NULL, "odd `name""" VARCHAR, "raw" BLOB, "tags" UUID[], "doc" JSON, "span" INTERVAL, "at" TIMESTAMPTZ);

-- insert a CSV part
INSERT INTO "bronze"."_stage_1_x" SELECT c0, c1, unhex(c2), CAST(CAST(c3 AS JSON) AS UUID[]), CAST(c4 AS JSON), CAST(c5 AS INTERVAL), c6 FROM read_csv($1, auto_detect = false, header = false, delim = ',', quote = '"', escape = '"', allow_quoted_nulls = false, strict_mode = true, columns = {'c0': 'BIGINT', 'c1': 'VARCHAR', 'c2': 'VARCHAR', 'c3': 'VARCHAR', 'c4': 'VARCHAR', 'c5': 'VARCHAR', 'c6': 'TIMESTAMPTZ'});
-- params: ["/w/part-00000.csv"]

-- a CSV part to Parquet (for Databricks)
COPY (SELECT CAST(c0 AS BIGINT) AS "id", c1 AS "odd `name""", unhex(c2) AS "raw", CAST(CAST(c3 AS JSON) AS VARCHAR[]) AS "tags", c4 AS "doc", c5 AS "span", CAST(c6 AS TIMESTAMPTZ) AS "at" FROM read_csv($1, auto_detect = false, header = false, delim = ',', quote = '"', escape = '"', allow_quoted_nulls = false, strict_mode = true, columns = {'c0': 'VARCHAR', 'c1': 'VARCHAR', 'c2': 'VARCHAR', 'c3': 'VARCHAR', 'c4': 'VARCHAR', 'c5': 'VARCHAR', 'c6': 'VARCHAR'})) TO '/w/it''s.parquet' (FORMAT parquet, COMPRESSION zstd);
-- params: ["/w/part-00000.csv"]

-- read CSV
SELECT * FROM read_csv($1, delim = $2, header = $3, encoding = $4, strict_mode = true, sample_size = 20480);
-- params: ["/f/a.csv",";",true,"latin-1"]

-- read NDJSON with declared columns
SELECT * FROM read_json($1, format = 'newline_delimited', columns = {'c0': 'TIMESTAMP'});
-- params: ["/f/a.ndjson"]

-- a file to Parquet
COPY (SELECT CAST("id" AS BIGINT) AS "id", CAST("u" AS VARCHAR) AS "u", CAST("x" AS VARCHAR) AS "x" FROM (SELECT * FROM read_parquet($1))) TO '/w/p.parquet' (FORMAT parquet, COMPRESSION zstd);
-- params: ["/f/a.parquet"]

-- parquet stats
SELECT count(*), CAST(max("id") AS VARCHAR), CAST(max("at") AS VARCHAR) FROM read_parquet($1);
-- params: ["/w/p.parquet"]

-- merge
DELETE FROM "bronze"."orders" AS t WHERE EXISTS (SELECT 1 FROM "bronze"."_stage_1_x" AS s WHERE s."id" IS NOT DISTINCT FROM t."id" AND s."line" IS NOT DISTINCT FROM t."line");
INSERT INTO "bronze"."orders" SELECT * FROM "bronze"."_stage_1_x" QUALIFY row_number() OVER (PARTITION BY "id", "line" ORDER BY "updated_at" DESC NULLS LAST) = 1;

-- list tables
WITH objs AS (
  SELECT schema_name AS layer, table_name AS name, 'table' AS kind, estimated_size AS rows, column_count AS columns
  FROM duckdb_tables() WHERE database_name = current_database() AND schema_name IN ('bronze', 'silver', 'gold')
  UNION ALL
  SELECT v.schema_name, v.view_name, 'view', NULL, (SELECT count(*) FROM duckdb_columns() c
    WHERE c.database_name = v.database_name AND c.schema_name = v.schema_name AND c.table_name = v.view_name)
  FROM duckdb_views() v WHERE v.database_name = current_database() AND v.schema_name IN ('bronze', 'silver', 'gold')
), last_load AS (
  SELECT target_layer, target_name, max(finished_at) AS at FROM _meta.sync_runs WHERE status = 'succeeded' GROUP BY ALL
)
SELECT o.layer, o.name, o.kind, o.rows, o.columns, l.kind, l.inputs,
  strftime(coalesce(ll.at, l.recorded_at), '%Y-%m-%dT%H:%M:%SZ')
FROM objs o
LEFT JOIN _meta.lineage l ON l.target_layer = o.layer AND l.target_name = o.name
LEFT JOIN last_load ll ON ll.target_layer = o.layer AND ll.target_name = o.name
WHERE ($1 IS NULL OR o.layer = $1) AND NOT starts_with(o.name, '_stage_')
ORDER BY CASE o.layer WHEN 'bronze' THEN 1 WHEN 'silver' THEN 2 ELSE 3 END, o.name;

-- columns
SELECT column_name, data_type, is_nullable, comment FROM duckdb_columns()
  WHERE database_name = current_database() AND schema_name = $1 AND table_name = $2 ORDER BY column_index;

-- count
SELECT count(*) FROM "bronze"."orders";

-- profile
SELECT count(*), count(*) - count("id"), approx_count_distinct("id"), CAST(min("id") AS VARCHAR), CAST(max("id") AS VARCHAR), count(*) - count("city"), approx_count_distinct("city"), CAST(min("city") AS VARCHAR), CAST(max("city") AS VARCHAR), count(*) - count("tags"), NULL, NULL, NULL FROM "bronze"."orders";

-- top values
SELECT CAST("city" AS VARCHAR) AS v, count(*) AS n FROM "bronze"."orders" WHERE "city" IS NOT NULL GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT $1;

-- preview
SELECT * FROM "bronze"."orders" LIMIT $1;

-- inspect (sampled above 200,000 rows)
SELECT count(*), count("id"), count(DISTINCT "id"), avg(CAST("id" AS DOUBLE)), stddev_samp(CAST("id" AS DOUBLE)), quantile_cont(CAST("id" AS DOUBLE), [0.01, 0.25, 0.5, 0.75, 0.99]), NULL, NULL, NULL, NULL, NULL, count("city"), count(DISTINCT "city"), NULL, NULL, NULL, count(TRY_CAST("city" AS DOUBLE)), count(TRY_CAST("city" AS TIMESTAMP)), count(*) FILTER (WHERE regexp_matches("city", $1)), count(*) FILTER (WHERE regexp_matches("city", $2)), avg(length("city")), count("tags"), NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL FROM "bronze"."orders" USING SAMPLE reservoir(200000 ROWS) REPEATABLE (42);
-- params: ["^[^@\\s]+@[^@\\s]+\\.[A-Za-z]{2,}$","^\\+?[0-9][0-9 ().-]{6,18}[0-9]$"]

-- transform
SELECT * FROM (SELECT * FROM (SELECT * FROM (SELECT * FROM (SELECT * FROM (SELECT CAST("id" AS INTEGER) AS "id", trim("name") AS "name", try_strptime(CAST("day" AS VARCHAR), $1) AS "day", CAST(strptime(CAST("born" AS VARCHAR), $2) AS DATE) AS "born", TRY_CAST(replace(replace(replace(CAST("price" AS VARCHAR), ' ', ''), '.', ''), ',', '.') AS DECIMAL(10,2)) AS "price", coalesce("qty", CAST($3 AS BIGINT)) AS "qty" FROM (SELECT * FROM "bronze"."raw_people") AS s1) AS s2 WHERE "name" IN ($4, $5)) AS s3 WHERE contains(CAST("name" AS VARCHAR), $6)) AS s4 WHERE "qty" >= $7) AS s5 WHERE "day" IS NOT NULL) AS s6 QUALIFY row_number() OVER (PARTITION BY "id" ORDER BY "day" DESC NULLS LAST) = 1;
-- params: ["%d/%m/%Y at %H:%M","%Y-%m-%d",0,"a","b'c","x",1]

-- transform preview
SELECT * FROM (SELECT * FROM (SELECT * FROM (SELECT * FROM (SELECT * FROM (SELECT * FROM (SELECT CAST("id" AS INTEGER) AS "id", trim("name") AS "name", try_strptime(CAST("day" AS VARCHAR), $1) AS "day", CAST(strptime(CAST("born" AS VARCHAR), $2) AS DATE) AS "born", TRY_CAST(replace(replace(replace(CAST("price" AS VARCHAR), ' ', ''), '.', ''), ',', '.') AS DECIMAL(10,2)) AS "price", coalesce("qty", CAST($3 AS BIGINT)) AS "qty" FROM (SELECT * FROM "bronze"."raw_people") AS s1) AS s2 WHERE "name" IN ($4, $5)) AS s3 WHERE contains(CAST("name" AS VARCHAR), $6)) AS s4 WHERE "qty" >= $7) AS s5 WHERE "day" IS NOT NULL) AS s6 QUALIFY row_number() OVER (PARTITION BY "id" ORDER BY "day" DESC NULLS LAST) = 1) AS q LIMIT $8;
-- params: ["%d/%m/%Y at %H:%M","%Y-%m-%d",0,"a","b'c","x",1,5]

-- create table as
CREATE TABLE "silver"."people" AS SELECT 1;

-- create view
CREATE VIEW "gold"."revenue" AS SELECT 1;

-- draft 1
SELECT date_trunc('month', "ordered_at") AS "month", "status" AS "status", sum("amount") AS "sum_amount", count(*) AS "count"
FROM "silver"."orders"
WHERE "ordered_at" >= current_date - INTERVAL 90 DAY
GROUP BY ALL
ORDER BY "month" ASC
LIMIT 100;

-- draft 2
SELECT "city", "revenue"
FROM "gold"."revenue"
WHERE year("day") = 2024
ORDER BY "revenue" DESC
LIMIT 20;

-- draft 3
SELECT count(DISTINCT "email") AS "distinct_email"
FROM "bronze"."customers"
LIMIT 1;
