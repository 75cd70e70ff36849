-- ===== catalog per tenant: volume /Volumes/tenant_acme/_meta/landing

-- bootstrap
CREATE CATALOG IF NOT EXISTS `tenant_acme`;
CREATE SCHEMA IF NOT EXISTS `tenant_acme`.`bronze`;
CREATE SCHEMA IF NOT EXISTS `tenant_acme`.`silver`;
CREATE SCHEMA IF NOT EXISTS `tenant_acme`.`gold`;
CREATE SCHEMA IF NOT EXISTS `tenant_acme`.`_meta`;
CREATE VOLUME IF NOT EXISTS `tenant_acme`.`_meta`.`landing`;
CREATE TABLE IF NOT EXISTS `tenant_acme`.`_meta`.`connections` (name STRING, kind STRING, host STRING, port INT, database STRING, user_name STRING, ssl_mode STRING, created_at TIMESTAMP, updated_at TIMESTAMP);
CREATE TABLE IF NOT EXISTS `tenant_acme`.`_meta`.`sync_runs` (run_id STRING, kind STRING, connection STRING, source STRING, target_layer STRING, target_name STRING, mode STRING, status STRING, started_at TIMESTAMP, finished_at TIMESTAMP, rows BIGINT, bytes BIGINT, duration_ms BIGINT, watermark STRING, error STRING);
CREATE TABLE IF NOT EXISTS `tenant_acme`.`_meta`.`sync_state` (target STRING, connection STRING, source STRING, cursor_column STRING, key_columns STRING, watermark STRING, updated_at TIMESTAMP);
CREATE TABLE IF NOT EXISTS `tenant_acme`.`_meta`.`lineage` (target_layer STRING, target_name STRING, kind STRING, inputs STRING, definition STRING, recorded_at TIMESTAMP);

-- list tables
WITH cols AS (SELECT table_schema, table_name, count(*) AS n FROM `tenant_acme`.`information_schema`.`columns` WHERE table_schema IN (:bronze, :silver, :gold) GROUP BY ALL),
runs AS (SELECT target_layer, target_name, max(finished_at) AS at, max_by(rows, finished_at) AS rows FROM `tenant_acme`.`_meta`.`sync_runs` WHERE status = 'succeeded' GROUP BY ALL)
SELECT t.table_schema, t.table_name, t.table_type, r.rows, coalesce(c.n, 0), l.kind, l.inputs, CAST(coalesce(r.at, l.recorded_at) AS STRING)
FROM `tenant_acme`.`information_schema`.`tables` AS t
LEFT JOIN cols AS c ON c.table_schema = t.table_schema AND c.table_name = t.table_name
LEFT JOIN `tenant_acme`.`_meta`.`lineage` AS l ON l.target_layer = CASE t.table_schema WHEN :bronze THEN 'bronze' WHEN :silver THEN 'silver' ELSE 'gold' END AND l.target_name = t.table_name
LEFT JOIN runs AS r ON r.target_layer = l.target_layer AND r.target_name = t.table_name
WHERE t.table_schema IN (:bronze, :silver, :gold) AND (:layer IS NULL OR t.table_schema = :layer) AND NOT startswith(t.table_name, '_stage_')
ORDER BY CASE t.table_schema WHEN :bronze THEN 1 WHEN :silver THEN 2 ELSE 3 END, t.table_name;
-- params: {"bronze":"bronze","silver":"silver","gold":"gold","layer":"silver"}

-- list tables without metadata
SELECT t.table_schema, t.table_name, t.table_type, NULL, (SELECT count(*) FROM `tenant_acme`.`information_schema`.`columns` AS c WHERE c.table_schema = t.table_schema AND c.table_name = t.table_name), NULL, NULL, NULL
FROM `tenant_acme`.`information_schema`.`tables` AS t
WHERE t.table_schema IN (:bronze, :silver, :gold) AND (:layer IS NULL OR t.table_schema = :layer) AND NOT startswith(t.table_name, '_stage_')
ORDER BY CASE t.table_schema WHEN :bronze THEN 1 WHEN :silver THEN 2 ELSE 3 END, t.table_name;
-- params: {"bronze":"bronze","silver":"silver","gold":"gold","layer":null}

-- columns
SELECT column_name, full_data_type, is_nullable FROM `tenant_acme`.`information_schema`.`columns` WHERE table_schema = :schema AND table_name = :table ORDER BY ordinal_position;
-- params: {"schema":"bronze","table":"orders"}

-- object kind
SELECT table_type FROM `tenant_acme`.`information_schema`.`tables` WHERE table_schema = :schema AND table_name = :table;
-- params: {"schema":"bronze","table":"orders"}

-- count
SELECT count(*) FROM `tenant_acme`.`bronze`.`orders`;

-- detail
DESCRIBE DETAIL `tenant_acme`.`bronze`.`orders`;

-- profile (small table)
SELECT count(*), count(*) - count(`id`), approx_count_distinct(`id`), CAST(min(`id`) AS STRING), CAST(max(`id`) AS STRING), count(*) - count(`city`), approx_count_distinct(`city`), CAST(min(`city`) AS STRING), CAST(max(`city`) AS STRING), count(*) - count(`tags`), NULL, NULL, NULL FROM `tenant_acme`.`bronze`.`orders`;

-- profile (sampled)
SELECT count(*), count(*) - count(`id`), approx_count_distinct(`id`), CAST(min(`id`) AS STRING), CAST(max(`id`) AS STRING), count(*) - count(`city`), approx_count_distinct(`city`), CAST(min(`city`) AS STRING), CAST(max(`city`) AS STRING), count(*) - count(`tags`), NULL, NULL, NULL FROM `tenant_acme`.`bronze`.`orders` TABLESAMPLE (2.0000 PERCENT);

-- top values (sampled)
SELECT CAST(`city` AS STRING) AS v, count(*) AS n FROM `tenant_acme`.`bronze`.`orders` TABLESAMPLE (2.0000 PERCENT) WHERE `city` IS NOT NULL GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 5;

-- preview
SELECT * FROM `tenant_acme`.`bronze`.`orders` LIMIT 20;

-- inspect
SELECT count(*), count(`id`), count(DISTINCT `id`), avg(CAST(`id` AS DOUBLE)), stddev_samp(CAST(`id` AS DOUBLE)), percentile_approx(CAST(`id` AS DOUBLE), array(0.01, 0.25, 0.5, 0.75, 0.99)), NULL, NULL, NULL, NULL, NULL, count(`city`), count(DISTINCT `city`), NULL, NULL, NULL, count(try_cast(`city` AS DOUBLE)), count(try_cast(`city` AS TIMESTAMP)), count_if(`city` RLIKE :email), count_if(`city` RLIKE :phone), avg(length(`city`)), count(`tags`), NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL FROM `tenant_acme`.`bronze`.`orders`;
-- params: {"email":"^[^@\\s]+@[^@\\s]+\\.[A-Za-z]{2,}$","phone":"^\\+?[0-9][0-9 ().-]{6,18}[0-9]$"}

-- put
PUT '/tmp/run-1-x/part-00000\'s.parquet' INTO '/Volumes/tenant_acme/_meta/landing/bronze_orders/run-1-x/part-00000.parquet' OVERWRITE;

-- remove
REMOVE '/Volumes/tenant_acme/_meta/landing/bronze_orders/run-1-x/part-00000.parquet';

-- full load
CREATE OR REPLACE TABLE `tenant_acme`.`bronze`.`orders` AS SELECT CAST(`id` AS BIGINT) AS `id`, CAST(`odd ``name"` AS STRING) AS `odd ``name"`, CAST(`raw` AS BINARY) AS `raw`, CAST(`tags` AS ARRAY<STRING>) AS `tags`, CAST(`doc` AS STRING) AS `doc`, CAST(`span` AS STRING) AS `span`, CAST(`at` AS TIMESTAMP) AS `at` FROM read_files('/Volumes/tenant_acme/_meta/landing/bronze_orders/run-1-x', format => 'parquet');

-- full load of nothing
CREATE OR REPLACE TABLE `tenant_acme`.`bronze`.`orders` (`id` BIGINT, `odd ``name"` STRING, `raw` BINARY, `tags` ARRAY<STRING>, `doc` STRING, `span` STRING, `at` TIMESTAMP);

-- staging
CREATE TABLE IF NOT EXISTS `tenant_acme`.`bronze`.`_stage_1_x` (`id` BIGINT, `odd ``name"` STRING, `raw` BINARY, `tags` ARRAY<STRING>, `doc` STRING, `span` STRING, `at` TIMESTAMP);

-- copy into
COPY INTO `tenant_acme`.`bronze`.`_stage_1_x` FROM '/Volumes/tenant_acme/_meta/landing/bronze_orders/run-1-x' FILEFORMAT = PARQUET;

-- merge
MERGE INTO `tenant_acme`.`bronze`.`orders` AS t USING (SELECT * FROM `tenant_acme`.`bronze`.`_stage_1_x` QUALIFY row_number() OVER (PARTITION BY `id`, `line` ORDER BY `updated_at` DESC NULLS LAST) = 1) AS s ON t.`id` <=> s.`id` AND t.`line` <=> s.`line` WHEN MATCHED THEN UPDATE SET * WHEN NOT MATCHED THEN INSERT *;

-- merge without a cursor
MERGE INTO `tenant_acme`.`bronze`.`orders` AS t USING (SELECT * FROM `tenant_acme`.`bronze`.`_stage_1_x` QUALIFY row_number() OVER (PARTITION BY `id` ORDER BY 1) = 1) AS s ON t.`id` <=> s.`id` WHEN MATCHED THEN UPDATE SET * WHEN NOT MATCHED THEN INSERT *;

-- drop staging
DROP TABLE IF EXISTS `tenant_acme`.`bronze`.`_stage_1_x`;

-- drop view
DROP VIEW IF EXISTS `tenant_acme`.`gold`.`v`;

-- insert run
INSERT INTO `tenant_acme`.`_meta`.`sync_runs` VALUES (:run_id, :kind, :connection, :source, :target_layer, :target_name, :mode, :status, CAST(:started_at AS TIMESTAMP), CAST(:finished_at AS TIMESTAMP), :rows, :bytes, :duration_ms, :watermark, :error);
-- params: {"run_id":"r1"}

-- runs
SELECT run_id, kind, connection, source, target_layer, target_name, mode, status, CAST(started_at AS STRING), CAST(finished_at AS STRING), rows, bytes, watermark, error FROM `tenant_acme`.`_meta`.`sync_runs` ORDER BY finished_at DESC LIMIT 5;

-- state
MERGE INTO `tenant_acme`.`_meta`.`sync_state` AS t USING (SELECT :target AS target, :connection AS connection, :source AS source, :cursor_column AS cursor_column, :key_columns AS key_columns, :watermark AS watermark, current_timestamp() AS updated_at) AS s ON t.target = s.target WHEN MATCHED THEN UPDATE SET * WHEN NOT MATCHED THEN INSERT *;
SELECT target, connection, source, cursor_column, key_columns, watermark FROM `tenant_acme`.`_meta`.`sync_state` WHERE target = :target;

-- lineage
MERGE INTO `tenant_acme`.`_meta`.`lineage` AS t USING (SELECT :layer AS target_layer, :name AS target_name, :kind AS kind, :inputs AS inputs, :definition AS definition, current_timestamp() AS recorded_at) AS s ON t.target_layer = s.target_layer AND t.target_name = s.target_name WHEN MATCHED THEN UPDATE SET * WHEN NOT MATCHED THEN INSERT *;
SELECT target_layer, target_name, kind, inputs, definition FROM `tenant_acme`.`_meta`.`lineage` WHERE target_layer = :layer AND target_name = :name;

-- connections
SELECT name, kind, host, port, database, user_name, ssl_mode, CAST(created_at AS STRING), CAST(updated_at AS STRING) FROM `tenant_acme`.`_meta`.`connections` ORDER BY name;
MERGE INTO `tenant_acme`.`_meta`.`connections` AS t USING (SELECT :name AS name, :kind AS kind, :host AS host, CAST(:port AS INT) AS port, :database AS database, :user_name AS user_name, :ssl_mode AS ssl_mode, CAST(:created_at AS TIMESTAMP) AS created_at, CAST(:updated_at AS TIMESTAMP) AS updated_at) AS s ON t.name = s.name WHEN MATCHED THEN UPDATE SET * WHEN NOT MATCHED THEN INSERT *;

-- transform
SELECT * FROM (SELECT * FROM (SELECT * FROM (SELECT * FROM (SELECT * FROM (SELECT CAST(`id` AS INT) AS `id`, trim(`name`) AS `name`, CAST(try_to_timestamp(CAST(`day` AS STRING), :p1) AS TIMESTAMP_NTZ) AS `day`, CAST(to_timestamp(CAST(`born` AS STRING), :p2) AS DATE) AS `born`, try_cast(replace(replace(replace(CAST(`price` AS STRING), ' ', ''), '.', ''), ',', '.') AS DECIMAL(10,2)) AS `price`, coalesce(`qty`, CAST(:p3 AS BIGINT)) AS `qty` FROM (SELECT * FROM `tenant_acme`.`bronze`.`raw_people`) AS s1) AS s2 WHERE `name` IN (:p4, :p5)) AS s3 WHERE contains(CAST(`name` AS STRING), :p6)) AS s4 WHERE `qty` >= :p7) AS s5 WHERE `day` IS NOT NULL) AS s6 QUALIFY row_number() OVER (PARTITION BY `id` ORDER BY `day` DESC NULLS LAST) = 1;
-- params: {"p1":"dd/MM/yyyy' at 'HH:mm","p2":"yyyy-MM-dd","p3":0,"p4":"a","p5":"b'c","p6":"x","p7":1}

-- transform table
CREATE OR REPLACE TABLE `tenant_acme`.`silver`.`people` AS SELECT 1;

-- transform preview
SELECT * FROM (SELECT 1) AS q LIMIT 5;

-- view
CREATE VIEW `tenant_acme`.`gold`.`revenue` AS SELECT 1;

-- view, replaced
CREATE OR REPLACE VIEW `tenant_acme`.`gold`.`revenue` AS SELECT 1;

-- explain
EXPLAIN SELECT 1;

-- describe query
DESCRIBE QUERY SELECT 1;

-- layers in a query
SELECT * FROM bronze.orders o JOIN `silver`.c ON o.id = c.id JOIN tenant_acme.gold.v USING (id) WHERE o.note = 'bronze.x' -- bronze.y;

-- ===== shared catalog main: volume /Volumes/main/tenant_acme_meta/landing

-- bootstrap
CREATE SCHEMA IF NOT EXISTS `main`.`tenant_acme_bronze`;
CREATE SCHEMA IF NOT EXISTS `main`.`tenant_acme_silver`;
CREATE SCHEMA IF NOT EXISTS `main`.`tenant_acme_gold`;
CREATE SCHEMA IF NOT EXISTS `main`.`tenant_acme_meta`;
CREATE VOLUME IF NOT EXISTS `main`.`tenant_acme_meta`.`landing`;
CREATE TABLE IF NOT EXISTS `main`.`tenant_acme_meta`.`connections` (name STRING, kind STRING, host STRING, port INT, database STRING, user_name STRING, ssl_mode STRING, created_at TIMESTAMP, updated_at TIMESTAMP);
CREATE TABLE IF NOT EXISTS `main`.`tenant_acme_meta`.`sync_runs` (run_id STRING, kind STRING, connection STRING, source STRING, target_layer STRING, target_name STRING, mode STRING, status STRING, started_at TIMESTAMP, finished_at TIMESTAMP, rows BIGINT, bytes BIGINT, duration_ms BIGINT, watermark STRING, error STRING);
CREATE TABLE IF NOT EXISTS `main`.`tenant_acme_meta`.`sync_state` (target STRING, connection STRING, source STRING, cursor_column STRING, key_columns STRING, watermark STRING, updated_at TIMESTAMP);
CREATE TABLE IF NOT EXISTS `main`.`tenant_acme_meta`.`lineage` (target_layer STRING, target_name STRING, kind STRING, inputs STRING, definition STRING, recorded_at TIMESTAMP);

-- list tables
WITH cols AS (SELECT table_schema, table_name, count(*) AS n FROM `main`.`information_schema`.`columns` WHERE table_schema IN (:bronze, :silver, :gold) GROUP BY ALL),
runs AS (SELECT target_layer, target_name, max(finished_at) AS at, max_by(rows, finished_at) AS rows FROM `main`.`tenant_acme_meta`.`sync_runs` WHERE status = 'succeeded' GROUP BY ALL)
SELECT t.table_schema, t.table_name, t.table_type, r.rows, coalesce(c.n, 0), l.kind, l.inputs, CAST(coalesce(r.at, l.recorded_at) AS STRING)
FROM `main`.`information_schema`.`tables` AS t
LEFT JOIN cols AS c ON c.table_schema = t.table_schema AND c.table_name = t.table_name
LEFT JOIN `main`.`tenant_acme_meta`.`lineage` AS l ON l.target_layer = CASE t.table_schema WHEN :bronze THEN 'bronze' WHEN :silver THEN 'silver' ELSE 'gold' END AND l.target_name = t.table_name
LEFT JOIN runs AS r ON r.target_layer = l.target_layer AND r.target_name = t.table_name
WHERE t.table_schema IN (:bronze, :silver, :gold) AND (:layer IS NULL OR t.table_schema = :layer) AND NOT startswith(t.table_name, '_stage_')
ORDER BY CASE t.table_schema WHEN :bronze THEN 1 WHEN :silver THEN 2 ELSE 3 END, t.table_name;
-- params: {"bronze":"tenant_acme_bronze","silver":"tenant_acme_silver","gold":"tenant_acme_gold","layer":"tenant_acme_silver"}

-- list tables without metadata
SELECT t.table_schema, t.table_name, t.table_type, NULL, (SELECT count(*) FROM `main`.`information_schema`.`columns` AS c WHERE c.table_schema = t.table_schema AND c.table_name = t.table_name), NULL, NULL, NULL
FROM `main`.`information_schema`.`tables` AS t
WHERE t.table_schema IN (:bronze, :silver, :gold) AND (:layer IS NULL OR t.table_schema = :layer) AND NOT startswith(t.table_name, '_stage_')
ORDER BY CASE t.table_schema WHEN :bronze THEN 1 WHEN :silver THEN 2 ELSE 3 END, t.table_name;
-- params: {"bronze":"tenant_acme_bronze","silver":"tenant_acme_silver","gold":"tenant_acme_gold","layer":null}

-- columns
SELECT column_name, full_data_type, is_nullable FROM `main`.`information_schema`.`columns` WHERE table_schema = :schema AND table_name = :table ORDER BY ordinal_position;
-- params: {"schema":"tenant_acme_bronze","table":"orders"}

-- object kind
SELECT table_type FROM `main`.`information_schema`.`tables` WHERE table_schema = :schema AND table_name = :table;
-- params: {"schema":"tenant_acme_bronze","table":"orders"}

-- count
SELECT count(*) FROM `main`.`tenant_acme_bronze`.`orders`;

-- detail
DESCRIBE DETAIL `main`.`tenant_acme_bronze`.`orders`;

-- profile (small table)
SELECT count(*), count(*) - count(`id`), approx_count_distinct(`id`), CAST(min(`id`) AS STRING), CAST(max(`id`) AS STRING), count(*) - count(`city`), approx_count_distinct(`city`), CAST(min(`city`) AS STRING), CAST(max(`city`) AS STRING), count(*) - count(`tags`), NULL, NULL, NULL FROM `main`.`tenant_acme_bronze`.`orders`;

-- profile (sampled)
SELECT count(*), count(*) - count(`id`), approx_count_distinct(`id`), CAST(min(`id`) AS STRING), CAST(max(`id`) AS STRING), count(*) - count(`city`), approx_count_distinct(`city`), CAST(min(`city`) AS STRING), CAST(max(`city`) AS STRING), count(*) - count(`tags`), NULL, NULL, NULL FROM `main`.`tenant_acme_bronze`.`orders` TABLESAMPLE (2.0000 PERCENT);

-- top values (sampled)
SELECT CAST(`city` AS STRING) AS v, count(*) AS n FROM `main`.`tenant_acme_bronze`.`orders` TABLESAMPLE (2.0000 PERCENT) WHERE `city` IS NOT NULL GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 5;

-- preview
SELECT * FROM `main`.`tenant_acme_bronze`.`orders` LIMIT 20;

-- inspect
SELECT count(*), count(`id`), count(DISTINCT `id`), avg(CAST(`id` AS DOUBLE)), stddev_samp(CAST(`id` AS DOUBLE)), percentile_approx(CAST(`id` AS DOUBLE), array(0.01, 0.25, 0.5, 0.75, 0.99)), NULL, NULL, NULL, NULL, NULL, count(`city`), count(DISTINCT `city`), NULL, NULL, NULL, count(try_cast(`city` AS DOUBLE)), count(try_cast(`city` AS TIMESTAMP)), count_if(`city` RLIKE :email), count_if(`city` RLIKE :phone), avg(length(`city`)), count(`tags`), NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL FROM `main`.`tenant_acme_bronze`.`orders`;
-- params: {"email":"^[^@\\s]+@[^@\\s]+\\.[A-Za-z]{2,}$","phone":"^\\+?[0-9][0-9 ().-]{6,18}[0-9]$"}

-- put
PUT '/tmp/run-1-x/part-00000\'s.parquet' INTO '/Volumes/main/tenant_acme_meta/landing/bronze_orders/run-1-x/part-00000.parquet' OVERWRITE;

-- remove
REMOVE '/Volumes/main/tenant_acme_meta/landing/bronze_orders/run-1-x/part-00000.parquet';

-- full load
CREATE OR REPLACE TABLE `main`.`tenant_acme_bronze`.`orders` AS SELECT CAST(`id` AS BIGINT) AS `id`, CAST(`odd ``name"` AS STRING) AS `odd ``name"`, CAST(`raw` AS BINARY) AS `raw`, CAST(`tags` AS ARRAY<STRING>) AS `tags`, CAST(`doc` AS STRING) AS `doc`, CAST(`span` AS STRING) AS `span`, CAST(`at` AS TIMESTAMP) AS `at` FROM read_files('/Volumes/main/tenant_acme_meta/landing/bronze_orders/run-1-x', format => 'parquet');

-- full load of nothing
CREATE OR REPLACE TABLE `main`.`tenant_acme_bronze`.`orders` (`id` BIGINT, `odd ``name"` STRING, `raw` BINARY, `tags` ARRAY<STRING>, `doc` STRING, `span` STRING, `at` TIMESTAMP);

-- staging
CREATE TABLE IF NOT EXISTS `main`.`tenant_acme_bronze`.`_stage_1_x` (`id` BIGINT, `odd ``name"` STRING, `raw` BINARY, `tags` ARRAY<STRING>, `doc` STRING, `span` STRING, `at` TIMESTAMP);

-- copy into
COPY INTO `main`.`tenant_acme_bronze`.`_stage_1_x` FROM '/Volumes/main/tenant_acme_meta/landing/bronze_orders/run-1-x' FILEFORMAT = PARQUET;

-- merge
MERGE INTO `main`.`tenant_acme_bronze`.`orders` AS t USING (SELECT * FROM `main`.`tenant_acme_bronze`.`_stage_1_x` QUALIFY row_number() OVER (PARTITION BY `id`, `line` ORDER BY `updated_at` DESC NULLS LAST) = 1) AS s ON t.`id` <=> s.`id` AND t.`line` <=> s.`line` WHEN MATCHED THEN UPDATE SET * WHEN NOT MATCHED THEN INSERT *;

-- merge without a cursor
MERGE INTO `main`.`tenant_acme_bronze`.`orders` AS t USING (SELECT * FROM `main`.`tenant_acme_bronze`.`_stage_1_x` QUALIFY row_number() OVER (PARTITION BY `id` ORDER BY 1) = 1) AS s ON t.`id` <=> s.`id` WHEN MATCHED THEN UPDATE SET * WHEN NOT MATCHED THEN INSERT *;

-- drop staging
DROP TABLE IF EXISTS `main`.`tenant_acme_bronze`.`_stage_1_x`;

-- drop view
DROP VIEW IF EXISTS `main`.`tenant_acme_gold`.`v`;

-- insert run
INSERT INTO `main`.`tenant_acme_meta`.`sync_runs` VALUES (:run_id, :kind, :connection, :source, :target_layer, :target_name, :mode, :status, CAST(:started_at AS TIMESTAMP), CAST(:finished_at AS TIMESTAMP), :rows, :bytes, :duration_ms, :watermark, :error);
-- params: {"run_id":"r1"}

-- runs
SELECT run_id, kind, connection, source, target_layer, target_name, mode, status, CAST(started_at AS STRING), CAST(finished_at AS STRING), rows, bytes, watermark, error FROM `main`.`tenant_acme_meta`.`sync_runs` ORDER BY finished_at DESC LIMIT 5;

-- state
MERGE INTO `main`.`tenant_acme_meta`.`sync_state` AS t USING (SELECT :target AS target, :connection AS connection, :source AS source, :cursor_column AS cursor_column, :key_columns AS key_columns, :watermark AS watermark, current_timestamp() AS updated_at) AS s ON t.target = s.target WHEN MATCHED THEN UPDATE SET * WHEN NOT MATCHED THEN INSERT *;
SELECT target, connection, source, cursor_column, key_columns, watermark FROM `main`.`tenant_acme_meta`.`sync_state` WHERE target = :target;

-- lineage
MERGE INTO `main`.`tenant_acme_meta`.`lineage` AS t USING (SELECT :layer AS target_layer, :name AS target_name, :kind AS kind, :inputs AS inputs, :definition AS definition, current_timestamp() AS recorded_at) AS s ON t.target_layer = s.target_layer AND t.target_name = s.target_name WHEN MATCHED THEN UPDATE SET * WHEN NOT MATCHED THEN INSERT *;
SELECT target_layer, target_name, kind, inputs, definition FROM `main`.`tenant_acme_meta`.`lineage` WHERE target_layer = :layer AND target_name = :name;

-- connections
SELECT name, kind, host, port, database, user_name, ssl_mode, CAST(created_at AS STRING), CAST(updated_at AS STRING) FROM `main`.`tenant_acme_meta`.`connections` ORDER BY name;
MERGE INTO `main`.`tenant_acme_meta`.`connections` AS t USING (SELECT :name AS name, :kind AS kind, :host AS host, CAST(:port AS INT) AS port, :database AS database, :user_name AS user_name, :ssl_mode AS ssl_mode, CAST(:created_at AS TIMESTAMP) AS created_at, CAST(:updated_at AS TIMESTAMP) AS updated_at) AS s ON t.name = s.name WHEN MATCHED THEN UPDATE SET * WHEN NOT MATCHED THEN INSERT *;

-- transform
SELECT * FROM (SELECT * FROM (SELECT * FROM (SELECT * FROM (SELECT * FROM (SELECT CAST(`id` AS INT) AS `id`, trim(`name`) AS `name`, CAST(try_to_timestamp(CAST(`day` AS STRING), :p1) AS TIMESTAMP_NTZ) AS `day`, CAST(to_timestamp(CAST(`born` AS STRING), :p2) AS DATE) AS `born`, try_cast(replace(replace(replace(CAST(`price` AS STRING), ' ', ''), '.', ''), ',', '.') AS DECIMAL(10,2)) AS `price`, coalesce(`qty`, CAST(:p3 AS BIGINT)) AS `qty` FROM (SELECT * FROM `main`.`tenant_acme_bronze`.`raw_people`) AS s1) AS s2 WHERE `name` IN (:p4, :p5)) AS s3 WHERE contains(CAST(`name` AS STRING), :p6)) AS s4 WHERE `qty` >= :p7) AS s5 WHERE `day` IS NOT NULL) AS s6 QUALIFY row_number() OVER (PARTITION BY `id` ORDER BY `day` DESC NULLS LAST) = 1;
-- params: {"p1":"dd/MM/yyyy' at 'HH:mm","p2":"yyyy-MM-dd","p3":0,"p4":"a","p5":"b'c","p6":"x","p7":1}

-- transform table
CREATE OR REPLACE TABLE `main`.`tenant_acme_silver`.`people` AS SELECT 1;

-- transform preview
SELECT * FROM (SELECT 1) AS q LIMIT 5;

-- view
CREATE VIEW `main`.`tenant_acme_gold`.`revenue` AS SELECT 1;

-- view, replaced
CREATE OR REPLACE VIEW `main`.`tenant_acme_gold`.`revenue` AS SELECT 1;

-- explain
EXPLAIN SELECT 1;

-- describe query
DESCRIBE QUERY SELECT 1;

-- layers in a query
SELECT * FROM `tenant_acme_bronze`.orders o JOIN `tenant_acme_silver`.c ON o.id = c.id JOIN `main`.`tenant_acme_gold`.v USING (id) WHERE o.note = 'bronze.x' -- bronze.y;

-- types
boolean → BOOLEAN
-- int16 → SMALLINT
-- int32 → INT
-- int64 → BIGINT
-- float32 → FLOAT
-- float64 → DOUBLE
-- decimal → DECIMAL(12,2)
-- text → STRING
-- date → DATE
-- time → STRING
-- timetz → STRING
-- timestamp → TIMESTAMP_NTZ
-- timestamptz → TIMESTAMP
-- interval → STRING
-- uuid → STRING
-- json → STRING
-- binary → BINARY
-- list → ARRAY<INT>;

-- date patterns
%Y-%m-%d → yyyy-MM-dd
-- %d/%m/%Y %H:%M:%S → dd/MM/yyyy HH:mm:ss
-- %d %b %Y → dd MMM yyyy
-- %Y-%m-%dT%H:%M:%S.%f → yyyy-MM-dd'T'HH:mm:ss.SSSSSS
-- %I:%M %p o'clock → hh:mm a' o''clock';

-- draft 1
SELECT date_trunc('MONTH', `ordered_at`) AS `month`, `status` AS `status`, sum(`amount`) AS `sum_amount`, count(*) AS `count`
FROM `silver`.`orders`
WHERE `ordered_at` >= current_date() - INTERVAL 90 DAYS
GROUP BY ALL
ORDER BY `month` ASC
LIMIT 100;

-- draft 2
SELECT `city`, `revenue`
FROM `gold`.`revenue`
WHERE year(`day`) = 2024
ORDER BY `revenue` DESC
LIMIT 20;

-- draft 3
SELECT count(DISTINCT `email`) AS `distinct_email`
FROM `bronze`.`customers`
LIMIT 1;
