-- export: properties["n"] > 5 and properties["n"] <= 10.5
COALESCE(
  NOT (
    (
      NOT COALESCE(
        CASE
          WHEN (
            SCHEMA_OF_VARIANT(VARIANT_GET(TRY_PARSE_JSON(`properties`), '$["n"]')) IN ('BIGINT', 'DOUBLE', 'INT', 'SMALLINT', 'TINYINT', 'FLOAT')
          )
          OR (
            SCHEMA_OF_VARIANT(VARIANT_GET(TRY_PARSE_JSON(`properties`), '$["n"]')) LIKE 'DECIMAL%'
          )
          THEN VARIANT_GET(VARIANT_GET(TRY_PARSE_JSON(`properties`), '$["n"]'), '$', 'double')
        END > CAST(5 AS DOUBLE),
        FALSE
      )
    )
    OR (
      NOT COALESCE(
        CASE
          WHEN (
            SCHEMA_OF_VARIANT(VARIANT_GET(TRY_PARSE_JSON(`properties`), '$["n"]')) IN ('BIGINT', 'DOUBLE', 'INT', 'SMALLINT', 'TINYINT', 'FLOAT')
          )
          OR (
            SCHEMA_OF_VARIANT(VARIANT_GET(TRY_PARSE_JSON(`properties`), '$["n"]')) LIKE 'DECIMAL%'
          )
          THEN VARIANT_GET(VARIANT_GET(TRY_PARSE_JSON(`properties`), '$["n"]'), '$', 'double')
        END <= CAST(10.5 AS DOUBLE),
        FALSE
      )
    )
  ),
  FALSE
);

-- export: properties["os"] in ["iOS", "Android", 1]
COALESCE(
  CASE
    WHEN VARIANT_GET(TRY_PARSE_JSON(`properties`), '$["os"]') IS NULL
    THEN NULL
    ELSE (
      COALESCE(
        CASE
          WHEN SCHEMA_OF_VARIANT(VARIANT_GET(TRY_PARSE_JSON(`properties`), '$["os"]')) = 'STRING'
          THEN VARIANT_GET(VARIANT_GET(TRY_PARSE_JSON(`properties`), '$["os"]'), '$', 'string')
        END = 'iOS',
        FALSE
      )
      OR COALESCE(
        CASE
          WHEN SCHEMA_OF_VARIANT(VARIANT_GET(TRY_PARSE_JSON(`properties`), '$["os"]')) = 'STRING'
          THEN VARIANT_GET(VARIANT_GET(TRY_PARSE_JSON(`properties`), '$["os"]'), '$', 'string')
        END = 'Android',
        FALSE
      )
    )
    OR COALESCE(
      CASE
        WHEN (
          SCHEMA_OF_VARIANT(VARIANT_GET(TRY_PARSE_JSON(`properties`), '$["os"]')) IN ('BIGINT', 'DOUBLE', 'INT', 'SMALLINT', 'TINYINT', 'FLOAT')
        )
        OR (
          SCHEMA_OF_VARIANT(VARIANT_GET(TRY_PARSE_JSON(`properties`), '$["os"]')) LIKE 'DECIMAL%'
        )
        THEN VARIANT_GET(VARIANT_GET(TRY_PARSE_JSON(`properties`), '$["os"]'), '$', 'double')
      END = CAST(1 AS DOUBLE),
      FALSE
    )
  END,
  FALSE
);

-- export: -properties["n"] / properties["d"] % 3 == -1
COALESCE(
  COALESCE(
    CASE
      WHEN ABS(
        CASE
          WHEN CAST(3 AS DOUBLE) <> 0
          THEN CASE
            WHEN ABS(
              CASE
                WHEN CASE
                  WHEN (
                    SCHEMA_OF_VARIANT(VARIANT_GET(TRY_PARSE_JSON(`properties`), '$["d"]')) IN ('BIGINT', 'DOUBLE', 'INT', 'SMALLINT', 'TINYINT', 'FLOAT')
                  )
                  OR (
                    SCHEMA_OF_VARIANT(VARIANT_GET(TRY_PARSE_JSON(`properties`), '$["d"]')) LIKE 'DECIMAL%'
                  )
                  THEN VARIANT_GET(VARIANT_GET(TRY_PARSE_JSON(`properties`), '$["d"]'), '$', 'double')
                END <> 0
                THEN (
                  -CASE
                    WHEN (
                      SCHEMA_OF_VARIANT(VARIANT_GET(TRY_PARSE_JSON(`properties`), '$["n"]')) IN ('BIGINT', 'DOUBLE', 'INT', 'SMALLINT', 'TINYINT', 'FLOAT')
                    )
                    OR (
                      SCHEMA_OF_VARIANT(VARIANT_GET(TRY_PARSE_JSON(`properties`), '$["n"]')) LIKE 'DECIMAL%'
                    )
                    THEN VARIANT_GET(VARIANT_GET(TRY_PARSE_JSON(`properties`), '$["n"]'), '$', 'double')
                  END
                ) / CASE
                  WHEN (
                    SCHEMA_OF_VARIANT(VARIANT_GET(TRY_PARSE_JSON(`properties`), '$["d"]')) IN ('BIGINT', 'DOUBLE', 'INT', 'SMALLINT', 'TINYINT', 'FLOAT')
                  )
                  OR (
                    SCHEMA_OF_VARIANT(VARIANT_GET(TRY_PARSE_JSON(`properties`), '$["d"]')) LIKE 'DECIMAL%'
                  )
                  THEN VARIANT_GET(VARIANT_GET(TRY_PARSE_JSON(`properties`), '$["d"]'), '$', 'double')
                END
              END
            ) <= 1.7976931348623157e308
            THEN CASE
              WHEN CASE
                WHEN (
                  SCHEMA_OF_VARIANT(VARIANT_GET(TRY_PARSE_JSON(`properties`), '$["d"]')) IN ('BIGINT', 'DOUBLE', 'INT', 'SMALLINT', 'TINYINT', 'FLOAT')
                )
                OR (
                  SCHEMA_OF_VARIANT(VARIANT_GET(TRY_PARSE_JSON(`properties`), '$["d"]')) LIKE 'DECIMAL%'
                )
                THEN VARIANT_GET(VARIANT_GET(TRY_PARSE_JSON(`properties`), '$["d"]'), '$', 'double')
              END <> 0
              THEN (
                -CASE
                  WHEN (
                    SCHEMA_OF_VARIANT(VARIANT_GET(TRY_PARSE_JSON(`properties`), '$["n"]')) IN ('BIGINT', 'DOUBLE', 'INT', 'SMALLINT', 'TINYINT', 'FLOAT')
                  )
                  OR (
                    SCHEMA_OF_VARIANT(VARIANT_GET(TRY_PARSE_JSON(`properties`), '$["n"]')) LIKE 'DECIMAL%'
                  )
                  THEN VARIANT_GET(VARIANT_GET(TRY_PARSE_JSON(`properties`), '$["n"]'), '$', 'double')
                END
              ) / CASE
                WHEN (
                  SCHEMA_OF_VARIANT(VARIANT_GET(TRY_PARSE_JSON(`properties`), '$["d"]')) IN ('BIGINT', 'DOUBLE', 'INT', 'SMALLINT', 'TINYINT', 'FLOAT')
                )
                OR (
                  SCHEMA_OF_VARIANT(VARIANT_GET(TRY_PARSE_JSON(`properties`), '$["d"]')) LIKE 'DECIMAL%'
                )
                THEN VARIANT_GET(VARIANT_GET(TRY_PARSE_JSON(`properties`), '$["d"]'), '$', 'double')
              END
            END
          END % CAST(3 AS DOUBLE)
        END
      ) <= 1.7976931348623157e308
      THEN CASE
        WHEN CAST(3 AS DOUBLE) <> 0
        THEN CASE
          WHEN ABS(
            CASE
              WHEN CASE
                WHEN (
                  SCHEMA_OF_VARIANT(VARIANT_GET(TRY_PARSE_JSON(`properties`), '$["d"]')) IN ('BIGINT', 'DOUBLE', 'INT', 'SMALLINT', 'TINYINT', 'FLOAT')
                )
                OR (
                  SCHEMA_OF_VARIANT(VARIANT_GET(TRY_PARSE_JSON(`properties`), '$["d"]')) LIKE 'DECIMAL%'
                )
                THEN VARIANT_GET(VARIANT_GET(TRY_PARSE_JSON(`properties`), '$["d"]'), '$', 'double')
              END <> 0
              THEN (
                -CASE
                  WHEN (
                    SCHEMA_OF_VARIANT(VARIANT_GET(TRY_PARSE_JSON(`properties`), '$["n"]')) IN ('BIGINT', 'DOUBLE', 'INT', 'SMALLINT', 'TINYINT', 'FLOAT')
                  )
                  OR (
                    SCHEMA_OF_VARIANT(VARIANT_GET(TRY_PARSE_JSON(`properties`), '$["n"]')) LIKE 'DECIMAL%'
                  )
                  THEN VARIANT_GET(VARIANT_GET(TRY_PARSE_JSON(`properties`), '$["n"]'), '$', 'double')
                END
              ) / CASE
                WHEN (
                  SCHEMA_OF_VARIANT(VARIANT_GET(TRY_PARSE_JSON(`properties`), '$["d"]')) IN ('BIGINT', 'DOUBLE', 'INT', 'SMALLINT', 'TINYINT', 'FLOAT')
                )
                OR (
                  SCHEMA_OF_VARIANT(VARIANT_GET(TRY_PARSE_JSON(`properties`), '$["d"]')) LIKE 'DECIMAL%'
                )
                THEN VARIANT_GET(VARIANT_GET(TRY_PARSE_JSON(`properties`), '$["d"]'), '$', 'double')
              END
            END
          ) <= 1.7976931348623157e308
          THEN CASE
            WHEN CASE
              WHEN (
                SCHEMA_OF_VARIANT(VARIANT_GET(TRY_PARSE_JSON(`properties`), '$["d"]')) IN ('BIGINT', 'DOUBLE', 'INT', 'SMALLINT', 'TINYINT', 'FLOAT')
              )
              OR (
                SCHEMA_OF_VARIANT(VARIANT_GET(TRY_PARSE_JSON(`properties`), '$["d"]')) LIKE 'DECIMAL%'
              )
              THEN VARIANT_GET(VARIANT_GET(TRY_PARSE_JSON(`properties`), '$["d"]'), '$', 'double')
            END <> 0
            THEN (
              -CASE
                WHEN (
                  SCHEMA_OF_VARIANT(VARIANT_GET(TRY_PARSE_JSON(`properties`), '$["n"]')) IN ('BIGINT', 'DOUBLE', 'INT', 'SMALLINT', 'TINYINT', 'FLOAT')
                )
                OR (
                  SCHEMA_OF_VARIANT(VARIANT_GET(TRY_PARSE_JSON(`properties`), '$["n"]')) LIKE 'DECIMAL%'
                )
                THEN VARIANT_GET(VARIANT_GET(TRY_PARSE_JSON(`properties`), '$["n"]'), '$', 'double')
              END
            ) / CASE
              WHEN (
                SCHEMA_OF_VARIANT(VARIANT_GET(TRY_PARSE_JSON(`properties`), '$["d"]')) IN ('BIGINT', 'DOUBLE', 'INT', 'SMALLINT', 'TINYINT', 'FLOAT')
              )
              OR (
                SCHEMA_OF_VARIANT(VARIANT_GET(TRY_PARSE_JSON(`properties`), '$["d"]')) LIKE 'DECIMAL%'
              )
              THEN VARIANT_GET(VARIANT_GET(TRY_PARSE_JSON(`properties`), '$["d"]'), '$', 'double')
            END
          END
        END % CAST(3 AS DOUBLE)
      END
    END = (
      -CAST(1 AS DOUBLE)
    ),
    FALSE
  ),
  FALSE
);

-- export: has_prefix(properties["it's"], "https://")
COALESCE(
  STARTSWITH(
    CASE
      WHEN CASE
        WHEN REGEXP_LIKE(
          CASE
            WHEN SCHEMA_OF_VARIANT(VARIANT_GET(TRY_PARSE_JSON(`properties`), '$["it\'s"]')) = 'STRING'
            THEN VARIANT_GET(VARIANT_GET(TRY_PARSE_JSON(`properties`), '$["it\'s"]'), '$', 'string')
          END,
          '^(?:[0-9]{4}-[0-9]{2}-[0-9]{2}(?:T[0-9]{2}:[0-9]{2}:[0-9]{2}(?:\\.[0-9]{1,9})?Z?)?)\\z'
        )
        THEN CASE
          WHEN (
            NOT (
              TRY_CAST(SUBSTRING(
                CASE
                  WHEN SCHEMA_OF_VARIANT(VARIANT_GET(TRY_PARSE_JSON(`properties`), '$["it\'s"]')) = 'STRING'
                  THEN VARIANT_GET(VARIANT_GET(TRY_PARSE_JSON(`properties`), '$["it\'s"]'), '$', 'string')
                END,
                1,
                10
              ) AS DATE) IS NULL
            )
          )
          AND (
            (
              (
                (
                  SUBSTRING(
                    CASE
                      WHEN SCHEMA_OF_VARIANT(VARIANT_GET(TRY_PARSE_JSON(`properties`), '$["it\'s"]')) = 'STRING'
                      THEN VARIANT_GET(VARIANT_GET(TRY_PARSE_JSON(`properties`), '$["it\'s"]'), '$', 'string')
                    END,
                    1,
                    4
                  ) <> '0000'
                )
                AND (
                  COALESCE(
                    TRY_CAST(SUBSTRING(
                      CASE
                        WHEN SCHEMA_OF_VARIANT(VARIANT_GET(TRY_PARSE_JSON(`properties`), '$["it\'s"]')) = 'STRING'
                        THEN VARIANT_GET(VARIANT_GET(TRY_PARSE_JSON(`properties`), '$["it\'s"]'), '$', 'string')
                      END,
                      12,
                      2
                    ) AS INT),
                    0
                  ) < 24
                )
              )
              AND (
                COALESCE(
                  TRY_CAST(SUBSTRING(
                    CASE
                      WHEN SCHEMA_OF_VARIANT(VARIANT_GET(TRY_PARSE_JSON(`properties`), '$["it\'s"]')) = 'STRING'
                      THEN VARIANT_GET(VARIANT_GET(TRY_PARSE_JSON(`properties`), '$["it\'s"]'), '$', 'string')
                    END,
                    15,
                    2
                  ) AS INT),
                  0
                ) < 60
              )
            )
            AND (
              COALESCE(
                TRY_CAST(SUBSTRING(
                  CASE
                    WHEN SCHEMA_OF_VARIANT(VARIANT_GET(TRY_PARSE_JSON(`properties`), '$["it\'s"]')) = 'STRING'
                    THEN VARIANT_GET(VARIANT_GET(TRY_PARSE_JSON(`properties`), '$["it\'s"]'), '$', 'string')
                  END,
                  18,
                  2
                ) AS INT),
                0
              ) < 60
            )
          )
          THEN (
            CAST(UNIX_DATE(
              TRY_CAST(SUBSTRING(
                CASE
                  WHEN SCHEMA_OF_VARIANT(VARIANT_GET(TRY_PARSE_JSON(`properties`), '$["it\'s"]')) = 'STRING'
                  THEN VARIANT_GET(VARIANT_GET(TRY_PARSE_JSON(`properties`), '$["it\'s"]'), '$', 'string')
                END,
                1,
                10
              ) AS DATE)
            ) AS DOUBLE) * 86400
          ) + (
            (
              COALESCE(
                TRY_CAST(SUBSTRING(
                  CASE
                    WHEN SCHEMA_OF_VARIANT(VARIANT_GET(TRY_PARSE_JSON(`properties`), '$["it\'s"]')) = 'STRING'
                    THEN VARIANT_GET(VARIANT_GET(TRY_PARSE_JSON(`properties`), '$["it\'s"]'), '$', 'string')
                  END,
                  12,
                  2
                ) AS INT),
                0
              ) * 3600
            ) + (
              (
                COALESCE(
                  TRY_CAST(SUBSTRING(
                    CASE
                      WHEN SCHEMA_OF_VARIANT(VARIANT_GET(TRY_PARSE_JSON(`properties`), '$["it\'s"]')) = 'STRING'
                      THEN VARIANT_GET(VARIANT_GET(TRY_PARSE_JSON(`properties`), '$["it\'s"]'), '$', 'string')
                    END,
                    15,
                    2
                  ) AS INT),
                  0
                ) * 60
              ) + COALESCE(
                TRY_CAST(SUBSTRING(
                  CASE
                    WHEN SCHEMA_OF_VARIANT(VARIANT_GET(TRY_PARSE_JSON(`properties`), '$["it\'s"]')) = 'STRING'
                    THEN VARIANT_GET(VARIANT_GET(TRY_PARSE_JSON(`properties`), '$["it\'s"]'), '$', 'string')
                  END,
                  18,
                  2
                ) AS INT),
                0
              )
            )
          )
        END
      END IS NULL
      THEN CASE
        WHEN SCHEMA_OF_VARIANT(VARIANT_GET(TRY_PARSE_JSON(`properties`), '$["it\'s"]')) = 'STRING'
        THEN VARIANT_GET(VARIANT_GET(TRY_PARSE_JSON(`properties`), '$["it\'s"]'), '$', 'string')
      END
    END,
    'https://'
  ),
  FALSE
);

-- pipelines: properties["n"] > 5 and properties["n"] <= 10.5
COALESCE(
  NOT (
    (
      NOT COALESCE(
        CASE
          WHEN (
            SCHEMA_OF_VARIANT(VARIANT_GET(TRY_PARSE_JSON(`properties`), '$["n"]')) IN ('BIGINT', 'DOUBLE', 'INT', 'SMALLINT', 'TINYINT', 'FLOAT')
          )
          OR (
            SCHEMA_OF_VARIANT(VARIANT_GET(TRY_PARSE_JSON(`properties`), '$["n"]')) LIKE 'DECIMAL%'
          )
          THEN VARIANT_GET(VARIANT_GET(TRY_PARSE_JSON(`properties`), '$["n"]'), '$', 'double')
        END > CAST(5 AS DOUBLE),
        FALSE
      )
    )
    OR (
      NOT COALESCE(
        CASE
          WHEN (
            SCHEMA_OF_VARIANT(VARIANT_GET(TRY_PARSE_JSON(`properties`), '$["n"]')) IN ('BIGINT', 'DOUBLE', 'INT', 'SMALLINT', 'TINYINT', 'FLOAT')
          )
          OR (
            SCHEMA_OF_VARIANT(VARIANT_GET(TRY_PARSE_JSON(`properties`), '$["n"]')) LIKE 'DECIMAL%'
          )
          THEN VARIANT_GET(VARIANT_GET(TRY_PARSE_JSON(`properties`), '$["n"]'), '$', 'double')
        END <= CAST(10.5 AS DOUBLE),
        FALSE
      )
    )
  ),
  FALSE
);

-- pipelines: properties["os"] in ["iOS", "Android", 1]
COALESCE(
  CASE
    WHEN VARIANT_GET(TRY_PARSE_JSON(`properties`), '$["os"]') IS NULL
    THEN NULL
    ELSE (
      COALESCE(
        CASE
          WHEN SCHEMA_OF_VARIANT(VARIANT_GET(TRY_PARSE_JSON(`properties`), '$["os"]')) = 'STRING'
          THEN VARIANT_GET(VARIANT_GET(TRY_PARSE_JSON(`properties`), '$["os"]'), '$', 'string')
        END = 'iOS',
        FALSE
      )
      OR COALESCE(
        CASE
          WHEN SCHEMA_OF_VARIANT(VARIANT_GET(TRY_PARSE_JSON(`properties`), '$["os"]')) = 'STRING'
          THEN VARIANT_GET(VARIANT_GET(TRY_PARSE_JSON(`properties`), '$["os"]'), '$', 'string')
        END = 'Android',
        FALSE
      )
    )
    OR COALESCE(
      CASE
        WHEN (
          SCHEMA_OF_VARIANT(VARIANT_GET(TRY_PARSE_JSON(`properties`), '$["os"]')) IN ('BIGINT', 'DOUBLE', 'INT', 'SMALLINT', 'TINYINT', 'FLOAT')
        )
        OR (
          SCHEMA_OF_VARIANT(VARIANT_GET(TRY_PARSE_JSON(`properties`), '$["os"]')) LIKE 'DECIMAL%'
        )
        THEN VARIANT_GET(VARIANT_GET(TRY_PARSE_JSON(`properties`), '$["os"]'), '$', 'double')
      END = CAST(1 AS DOUBLE),
      FALSE
    )
  END,
  FALSE
);

-- pipelines: -properties["n"] / properties["d"] % 3 == -1
COALESCE(
  COALESCE(
    CASE
      WHEN ABS(
        CASE
          WHEN CAST(3 AS DOUBLE) <> 0
          THEN CASE
            WHEN ABS(
              CASE
                WHEN CASE
                  WHEN (
                    SCHEMA_OF_VARIANT(VARIANT_GET(TRY_PARSE_JSON(`properties`), '$["d"]')) IN ('BIGINT', 'DOUBLE', 'INT', 'SMALLINT', 'TINYINT', 'FLOAT')
                  )
                  OR (
                    SCHEMA_OF_VARIANT(VARIANT_GET(TRY_PARSE_JSON(`properties`), '$["d"]')) LIKE 'DECIMAL%'
                  )
                  THEN VARIANT_GET(VARIANT_GET(TRY_PARSE_JSON(`properties`), '$["d"]'), '$', 'double')
                END <> 0
                THEN (
                  -CASE
                    WHEN (
                      SCHEMA_OF_VARIANT(VARIANT_GET(TRY_PARSE_JSON(`properties`), '$["n"]')) IN ('BIGINT', 'DOUBLE', 'INT', 'SMALLINT', 'TINYINT', 'FLOAT')
                    )
                    OR (
                      SCHEMA_OF_VARIANT(VARIANT_GET(TRY_PARSE_JSON(`properties`), '$["n"]')) LIKE 'DECIMAL%'
                    )
                    THEN VARIANT_GET(VARIANT_GET(TRY_PARSE_JSON(`properties`), '$["n"]'), '$', 'double')
                  END
                ) / CASE
                  WHEN (
                    SCHEMA_OF_VARIANT(VARIANT_GET(TRY_PARSE_JSON(`properties`), '$["d"]')) IN ('BIGINT', 'DOUBLE', 'INT', 'SMALLINT', 'TINYINT', 'FLOAT')
                  )
                  OR (
                    SCHEMA_OF_VARIANT(VARIANT_GET(TRY_PARSE_JSON(`properties`), '$["d"]')) LIKE 'DECIMAL%'
                  )
                  THEN VARIANT_GET(VARIANT_GET(TRY_PARSE_JSON(`properties`), '$["d"]'), '$', 'double')
                END
              END
            ) <= 1.7976931348623157e308
            THEN CASE
              WHEN CASE
                WHEN (
                  SCHEMA_OF_VARIANT(VARIANT_GET(TRY_PARSE_JSON(`properties`), '$["d"]')) IN ('BIGINT', 'DOUBLE', 'INT', 'SMALLINT', 'TINYINT', 'FLOAT')
                )
                OR (
                  SCHEMA_OF_VARIANT(VARIANT_GET(TRY_PARSE_JSON(`properties`), '$["d"]')) LIKE 'DECIMAL%'
                )
                THEN VARIANT_GET(VARIANT_GET(TRY_PARSE_JSON(`properties`), '$["d"]'), '$', 'double')
              END <> 0
              THEN (
                -CASE
                  WHEN (
                    SCHEMA_OF_VARIANT(VARIANT_GET(TRY_PARSE_JSON(`properties`), '$["n"]')) IN ('BIGINT', 'DOUBLE', 'INT', 'SMALLINT', 'TINYINT', 'FLOAT')
                  )
                  OR (
                    SCHEMA_OF_VARIANT(VARIANT_GET(TRY_PARSE_JSON(`properties`), '$["n"]')) LIKE 'DECIMAL%'
                  )
                  THEN VARIANT_GET(VARIANT_GET(TRY_PARSE_JSON(`properties`), '$["n"]'), '$', 'double')
                END
              ) / CASE
                WHEN (
                  SCHEMA_OF_VARIANT(VARIANT_GET(TRY_PARSE_JSON(`properties`), '$["d"]')) IN ('BIGINT', 'DOUBLE', 'INT', 'SMALLINT', 'TINYINT', 'FLOAT')
                )
                OR (
                  SCHEMA_OF_VARIANT(VARIANT_GET(TRY_PARSE_JSON(`properties`), '$["d"]')) LIKE 'DECIMAL%'
                )
                THEN VARIANT_GET(VARIANT_GET(TRY_PARSE_JSON(`properties`), '$["d"]'), '$', 'double')
              END
            END
          END % CAST(3 AS DOUBLE)
        END
      ) <= 1.7976931348623157e308
      THEN CASE
        WHEN CAST(3 AS DOUBLE) <> 0
        THEN CASE
          WHEN ABS(
            CASE
              WHEN CASE
                WHEN (
                  SCHEMA_OF_VARIANT(VARIANT_GET(TRY_PARSE_JSON(`properties`), '$["d"]')) IN ('BIGINT', 'DOUBLE', 'INT', 'SMALLINT', 'TINYINT', 'FLOAT')
                )
                OR (
                  SCHEMA_OF_VARIANT(VARIANT_GET(TRY_PARSE_JSON(`properties`), '$["d"]')) LIKE 'DECIMAL%'
                )
                THEN VARIANT_GET(VARIANT_GET(TRY_PARSE_JSON(`properties`), '$["d"]'), '$', 'double')
              END <> 0
              THEN (
                -CASE
                  WHEN (
                    SCHEMA_OF_VARIANT(VARIANT_GET(TRY_PARSE_JSON(`properties`), '$["n"]')) IN ('BIGINT', 'DOUBLE', 'INT', 'SMALLINT', 'TINYINT', 'FLOAT')
                  )
                  OR (
                    SCHEMA_OF_VARIANT(VARIANT_GET(TRY_PARSE_JSON(`properties`), '$["n"]')) LIKE 'DECIMAL%'
                  )
                  THEN VARIANT_GET(VARIANT_GET(TRY_PARSE_JSON(`properties`), '$["n"]'), '$', 'double')
                END
              ) / CASE
                WHEN (
                  SCHEMA_OF_VARIANT(VARIANT_GET(TRY_PARSE_JSON(`properties`), '$["d"]')) IN ('BIGINT', 'DOUBLE', 'INT', 'SMALLINT', 'TINYINT', 'FLOAT')
                )
                OR (
                  SCHEMA_OF_VARIANT(VARIANT_GET(TRY_PARSE_JSON(`properties`), '$["d"]')) LIKE 'DECIMAL%'
                )
                THEN VARIANT_GET(VARIANT_GET(TRY_PARSE_JSON(`properties`), '$["d"]'), '$', 'double')
              END
            END
          ) <= 1.7976931348623157e308
          THEN CASE
            WHEN CASE
              WHEN (
                SCHEMA_OF_VARIANT(VARIANT_GET(TRY_PARSE_JSON(`properties`), '$["d"]')) IN ('BIGINT', 'DOUBLE', 'INT', 'SMALLINT', 'TINYINT', 'FLOAT')
              )
              OR (
                SCHEMA_OF_VARIANT(VARIANT_GET(TRY_PARSE_JSON(`properties`), '$["d"]')) LIKE 'DECIMAL%'
              )
              THEN VARIANT_GET(VARIANT_GET(TRY_PARSE_JSON(`properties`), '$["d"]'), '$', 'double')
            END <> 0
            THEN (
              -CASE
                WHEN (
                  SCHEMA_OF_VARIANT(VARIANT_GET(TRY_PARSE_JSON(`properties`), '$["n"]')) IN ('BIGINT', 'DOUBLE', 'INT', 'SMALLINT', 'TINYINT', 'FLOAT')
                )
                OR (
                  SCHEMA_OF_VARIANT(VARIANT_GET(TRY_PARSE_JSON(`properties`), '$["n"]')) LIKE 'DECIMAL%'
                )
                THEN VARIANT_GET(VARIANT_GET(TRY_PARSE_JSON(`properties`), '$["n"]'), '$', 'double')
              END
            ) / CASE
              WHEN (
                SCHEMA_OF_VARIANT(VARIANT_GET(TRY_PARSE_JSON(`properties`), '$["d"]')) IN ('BIGINT', 'DOUBLE', 'INT', 'SMALLINT', 'TINYINT', 'FLOAT')
              )
              OR (
                SCHEMA_OF_VARIANT(VARIANT_GET(TRY_PARSE_JSON(`properties`), '$["d"]')) LIKE 'DECIMAL%'
              )
              THEN VARIANT_GET(VARIANT_GET(TRY_PARSE_JSON(`properties`), '$["d"]'), '$', 'double')
            END
          END
        END % CAST(3 AS DOUBLE)
      END
    END = (
      -CAST(1 AS DOUBLE)
    ),
    FALSE
  ),
  FALSE
);

-- pipelines: has_prefix(properties["it's"], "https://")
COALESCE(
  STARTSWITH(
    CASE
      WHEN CASE
        WHEN REGEXP_LIKE(
          CASE
            WHEN SCHEMA_OF_VARIANT(VARIANT_GET(TRY_PARSE_JSON(`properties`), '$["it\'s"]')) = 'STRING'
            THEN VARIANT_GET(VARIANT_GET(TRY_PARSE_JSON(`properties`), '$["it\'s"]'), '$', 'string')
          END,
          '^(?:[0-9]{4}-[0-9]{2}-[0-9]{2}(?:T[0-9]{2}:[0-9]{2}:[0-9]{2}(?:\\.[0-9]{1,9})?Z?)?)\\z'
        )
        THEN CASE
          WHEN (
            NOT (
              TRY_CAST(SUBSTRING(
                CASE
                  WHEN SCHEMA_OF_VARIANT(VARIANT_GET(TRY_PARSE_JSON(`properties`), '$["it\'s"]')) = 'STRING'
                  THEN VARIANT_GET(VARIANT_GET(TRY_PARSE_JSON(`properties`), '$["it\'s"]'), '$', 'string')
                END,
                1,
                10
              ) AS DATE) IS NULL
            )
          )
          AND (
            (
              (
                (
                  SUBSTRING(
                    CASE
                      WHEN SCHEMA_OF_VARIANT(VARIANT_GET(TRY_PARSE_JSON(`properties`), '$["it\'s"]')) = 'STRING'
                      THEN VARIANT_GET(VARIANT_GET(TRY_PARSE_JSON(`properties`), '$["it\'s"]'), '$', 'string')
                    END,
                    1,
                    4
                  ) <> '0000'
                )
                AND (
                  COALESCE(
                    TRY_CAST(SUBSTRING(
                      CASE
                        WHEN SCHEMA_OF_VARIANT(VARIANT_GET(TRY_PARSE_JSON(`properties`), '$["it\'s"]')) = 'STRING'
                        THEN VARIANT_GET(VARIANT_GET(TRY_PARSE_JSON(`properties`), '$["it\'s"]'), '$', 'string')
                      END,
                      12,
                      2
                    ) AS INT),
                    0
                  ) < 24
                )
              )
              AND (
                COALESCE(
                  TRY_CAST(SUBSTRING(
                    CASE
                      WHEN SCHEMA_OF_VARIANT(VARIANT_GET(TRY_PARSE_JSON(`properties`), '$["it\'s"]')) = 'STRING'
                      THEN VARIANT_GET(VARIANT_GET(TRY_PARSE_JSON(`properties`), '$["it\'s"]'), '$', 'string')
                    END,
                    15,
                    2
                  ) AS INT),
                  0
                ) < 60
              )
            )
            AND (
              COALESCE(
                TRY_CAST(SUBSTRING(
                  CASE
                    WHEN SCHEMA_OF_VARIANT(VARIANT_GET(TRY_PARSE_JSON(`properties`), '$["it\'s"]')) = 'STRING'
                    THEN VARIANT_GET(VARIANT_GET(TRY_PARSE_JSON(`properties`), '$["it\'s"]'), '$', 'string')
                  END,
                  18,
                  2
                ) AS INT),
                0
              ) < 60
            )
          )
          THEN (
            CAST(UNIX_DATE(
              TRY_CAST(SUBSTRING(
                CASE
                  WHEN SCHEMA_OF_VARIANT(VARIANT_GET(TRY_PARSE_JSON(`properties`), '$["it\'s"]')) = 'STRING'
                  THEN VARIANT_GET(VARIANT_GET(TRY_PARSE_JSON(`properties`), '$["it\'s"]'), '$', 'string')
                END,
                1,
                10
              ) AS DATE)
            ) AS DOUBLE) * 86400
          ) + (
            (
              COALESCE(
                TRY_CAST(SUBSTRING(
                  CASE
                    WHEN SCHEMA_OF_VARIANT(VARIANT_GET(TRY_PARSE_JSON(`properties`), '$["it\'s"]')) = 'STRING'
                    THEN VARIANT_GET(VARIANT_GET(TRY_PARSE_JSON(`properties`), '$["it\'s"]'), '$', 'string')
                  END,
                  12,
                  2
                ) AS INT),
                0
              ) * 3600
            ) + (
              (
                COALESCE(
                  TRY_CAST(SUBSTRING(
                    CASE
                      WHEN SCHEMA_OF_VARIANT(VARIANT_GET(TRY_PARSE_JSON(`properties`), '$["it\'s"]')) = 'STRING'
                      THEN VARIANT_GET(VARIANT_GET(TRY_PARSE_JSON(`properties`), '$["it\'s"]'), '$', 'string')
                    END,
                    15,
                    2
                  ) AS INT),
                  0
                ) * 60
              ) + COALESCE(
                TRY_CAST(SUBSTRING(
                  CASE
                    WHEN SCHEMA_OF_VARIANT(VARIANT_GET(TRY_PARSE_JSON(`properties`), '$["it\'s"]')) = 'STRING'
                    THEN VARIANT_GET(VARIANT_GET(TRY_PARSE_JSON(`properties`), '$["it\'s"]'), '$', 'string')
                  END,
                  18,
                  2
                ) AS INT),
                0
              )
            )
          )
        END
      END IS NULL
      THEN CASE
        WHEN SCHEMA_OF_VARIANT(VARIANT_GET(TRY_PARSE_JSON(`properties`), '$["it\'s"]')) = 'STRING'
        THEN VARIANT_GET(VARIANT_GET(TRY_PARSE_JSON(`properties`), '$["it\'s"]'), '$', 'string')
      END
    END,
    'https://'
  ),
  FALSE
);

-- engage: properties["n"] != 10
COALESCE(
  NOT COALESCE(
    CASE
      WHEN (
        SCHEMA_OF_VARIANT(VARIANT_GET(TRY_PARSE_JSON(`$properties`), '$["n"]')) IN ('BIGINT', 'DOUBLE', 'INT', 'SMALLINT', 'TINYINT', 'FLOAT')
      )
      OR (
        SCHEMA_OF_VARIANT(VARIANT_GET(TRY_PARSE_JSON(`$properties`), '$["n"]')) LIKE 'DECIMAL%'
      )
      THEN VARIANT_GET(VARIANT_GET(TRY_PARSE_JSON(`$properties`), '$["n"]'), '$', 'double')
    END = CAST(10 AS DOUBLE),
    FALSE
  ),
  FALSE
);

-- engage: properties["distinct_id"] == 5
COALESCE(
  COALESCE(
    CASE
      WHEN VARIANT_GET(TRY_PARSE_JSON(`$properties`), '$["distinct_id"]') IS NULL
      THEN CASE
        WHEN (
          SCHEMA_OF_VARIANT(CAST(`$distinct_id` AS VARIANT)) IN ('BIGINT', 'DOUBLE', 'INT', 'SMALLINT', 'TINYINT', 'FLOAT')
        )
        OR (
          SCHEMA_OF_VARIANT(CAST(`$distinct_id` AS VARIANT)) LIKE 'DECIMAL%'
        )
        THEN VARIANT_GET(CAST(`$distinct_id` AS VARIANT), '$', 'double')
      END
      ELSE CASE
        WHEN (
          SCHEMA_OF_VARIANT(VARIANT_GET(TRY_PARSE_JSON(`$properties`), '$["distinct_id"]')) IN ('BIGINT', 'DOUBLE', 'INT', 'SMALLINT', 'TINYINT', 'FLOAT')
        )
        OR (
          SCHEMA_OF_VARIANT(VARIANT_GET(TRY_PARSE_JSON(`$properties`), '$["distinct_id"]')) LIKE 'DECIMAL%'
        )
        THEN VARIANT_GET(VARIANT_GET(TRY_PARSE_JSON(`$properties`), '$["distinct_id"]'), '$', 'double')
      END
    END = CAST(5 AS DOUBLE),
    FALSE
  ),
  FALSE
);

-- select: count per day and $os
SELECT
  CAST(DATE_FROM_UNIX_DATE(
    CAST(FLOOR(
      CASE
        WHEN `_mpql_j1` IS NULL
        THEN CAST(FLOOR(UNIX_TIMESTAMP(`time`)) AS DOUBLE)
        ELSE `_mpql_dt1`
      END / 86400
    ) AS INT)
  ) AS STRING) AS `period`,
  CASE
    WHEN (
      CASE
        WHEN ABS(`_mpql_num2` + CAST(1 AS DOUBLE)) <= 1.7976931348623157e308
        THEN `_mpql_num2` + CAST(1 AS DOUBLE)
      END = FLOOR(
        CASE
          WHEN ABS(`_mpql_num2` + CAST(1 AS DOUBLE)) <= 1.7976931348623157e308
          THEN `_mpql_num2` + CAST(1 AS DOUBLE)
        END
      )
    )
    AND (
      ABS(
        CASE
          WHEN ABS(`_mpql_num2` + CAST(1 AS DOUBLE)) <= 1.7976931348623157e308
          THEN `_mpql_num2` + CAST(1 AS DOUBLE)
        END
      ) < 1e16
    )
    THEN CAST(CAST(CASE
      WHEN ABS(`_mpql_num2` + CAST(1 AS DOUBLE)) <= 1.7976931348623157e308
      THEN `_mpql_num2` + CAST(1 AS DOUBLE)
    END AS BIGINT) AS STRING)
    ELSE CAST(CASE
      WHEN ABS(`_mpql_num2` + CAST(1 AS DOUBLE)) <= 1.7976931348623157e308
      THEN `_mpql_num2` + CAST(1 AS DOUBLE)
    END AS STRING)
  END AS `segment`,
  COUNT(*) AS `count`
FROM (
  SELECT
    *,
    CASE
      WHEN REGEXP_LIKE(
        `_mpql_str0`,
        '^(?:[0-9]{4}-[0-9]{2}-[0-9]{2}(?:T[0-9]{2}:[0-9]{2}:[0-9]{2}(?:\\.[0-9]{1,9})?Z?)?)\\z'
      )
      THEN CASE
        WHEN (
          NOT (
            TRY_CAST(SUBSTRING(`_mpql_str0`, 1, 10) AS DATE) IS NULL
          )
        )
        AND (
          (
            (
              (
                SUBSTRING(`_mpql_str0`, 1, 4) <> '0000'
              )
              AND (
                COALESCE(TRY_CAST(SUBSTRING(`_mpql_str0`, 12, 2) AS INT), 0) < 24
              )
            )
            AND (
              COALESCE(TRY_CAST(SUBSTRING(`_mpql_str0`, 15, 2) AS INT), 0) < 60
            )
          )
          AND (
            COALESCE(TRY_CAST(SUBSTRING(`_mpql_str0`, 18, 2) AS INT), 0) < 60
          )
        )
        THEN (
          CAST(UNIX_DATE(TRY_CAST(SUBSTRING(`_mpql_str0`, 1, 10) AS DATE)) AS DOUBLE) * 86400
        ) + (
          (
            COALESCE(TRY_CAST(SUBSTRING(`_mpql_str0`, 12, 2) AS INT), 0) * 3600
          ) + (
            (
              COALESCE(TRY_CAST(SUBSTRING(`_mpql_str0`, 15, 2) AS INT), 0) * 60
            ) + COALESCE(TRY_CAST(SUBSTRING(`_mpql_str0`, 18, 2) AS INT), 0)
          )
        )
      END
    END AS `_mpql_dt0`,
    CASE
      WHEN REGEXP_LIKE(
        `_mpql_str1`,
        '^(?:[0-9]{4}-[0-9]{2}-[0-9]{2}(?:T[0-9]{2}:[0-9]{2}:[0-9]{2}(?:\\.[0-9]{1,9})?Z?)?)\\z'
      )
      THEN CASE
        WHEN (
          NOT (
            TRY_CAST(SUBSTRING(`_mpql_str1`, 1, 10) AS DATE) IS NULL
          )
        )
        AND (
          (
            (
              (
                SUBSTRING(`_mpql_str1`, 1, 4) <> '0000'
              )
              AND (
                COALESCE(TRY_CAST(SUBSTRING(`_mpql_str1`, 12, 2) AS INT), 0) < 24
              )
            )
            AND (
              COALESCE(TRY_CAST(SUBSTRING(`_mpql_str1`, 15, 2) AS INT), 0) < 60
            )
          )
          AND (
            COALESCE(TRY_CAST(SUBSTRING(`_mpql_str1`, 18, 2) AS INT), 0) < 60
          )
        )
        THEN (
          CAST(UNIX_DATE(TRY_CAST(SUBSTRING(`_mpql_str1`, 1, 10) AS DATE)) AS DOUBLE) * 86400
        ) + (
          (
            COALESCE(TRY_CAST(SUBSTRING(`_mpql_str1`, 12, 2) AS INT), 0) * 3600
          ) + (
            (
              COALESCE(TRY_CAST(SUBSTRING(`_mpql_str1`, 15, 2) AS INT), 0) * 60
            ) + COALESCE(TRY_CAST(SUBSTRING(`_mpql_str1`, 18, 2) AS INT), 0)
          )
        )
      END
    END AS `_mpql_dt1`,
    CASE
      WHEN REGEXP_LIKE(
        `_mpql_str2`,
        '^(?:[0-9]{4}-[0-9]{2}-[0-9]{2}(?:T[0-9]{2}:[0-9]{2}:[0-9]{2}(?:\\.[0-9]{1,9})?Z?)?)\\z'
      )
      THEN CASE
        WHEN (
          NOT (
            TRY_CAST(SUBSTRING(`_mpql_str2`, 1, 10) AS DATE) IS NULL
          )
        )
        AND (
          (
            (
              (
                SUBSTRING(`_mpql_str2`, 1, 4) <> '0000'
              )
              AND (
                COALESCE(TRY_CAST(SUBSTRING(`_mpql_str2`, 12, 2) AS INT), 0) < 24
              )
            )
            AND (
              COALESCE(TRY_CAST(SUBSTRING(`_mpql_str2`, 15, 2) AS INT), 0) < 60
            )
          )
          AND (
            COALESCE(TRY_CAST(SUBSTRING(`_mpql_str2`, 18, 2) AS INT), 0) < 60
          )
        )
        THEN (
          CAST(UNIX_DATE(TRY_CAST(SUBSTRING(`_mpql_str2`, 1, 10) AS DATE)) AS DOUBLE) * 86400
        ) + (
          (
            COALESCE(TRY_CAST(SUBSTRING(`_mpql_str2`, 12, 2) AS INT), 0) * 3600
          ) + (
            (
              COALESCE(TRY_CAST(SUBSTRING(`_mpql_str2`, 15, 2) AS INT), 0) * 60
            ) + COALESCE(TRY_CAST(SUBSTRING(`_mpql_str2`, 18, 2) AS INT), 0)
          )
        )
      END
    END AS `_mpql_dt2`
  FROM (
    SELECT
      *,
      CASE
        WHEN (
          SCHEMA_OF_VARIANT(`_mpql_j0`) IN ('BIGINT', 'DOUBLE', 'INT', 'SMALLINT', 'TINYINT', 'FLOAT')
        )
        OR (
          SCHEMA_OF_VARIANT(`_mpql_j0`) LIKE 'DECIMAL%'
        )
        THEN VARIANT_GET(`_mpql_j0`, '$', 'double')
      END AS `_mpql_num0`,
      CASE
        WHEN SCHEMA_OF_VARIANT(`_mpql_j0`) = 'STRING'
        THEN VARIANT_GET(`_mpql_j0`, '$', 'string')
      END AS `_mpql_str0`,
      CASE
        WHEN SCHEMA_OF_VARIANT(`_mpql_j0`) = 'BOOLEAN'
        THEN VARIANT_GET(`_mpql_j0`, '$', 'boolean')
      END AS `_mpql_bool0`,
      CASE WHEN SCHEMA_OF_VARIANT(`_mpql_j0`) = 'VOID' THEN TRUE END AS `_mpql_null0`,
      CASE WHEN SCHEMA_OF_VARIANT(`_mpql_j0`) LIKE 'ARRAY%' THEN `_mpql_j0` END AS `_mpql_lst0`,
      CASE WHEN SCHEMA_OF_VARIANT(`_mpql_j0`) LIKE 'OBJECT%' THEN `_mpql_j0` END AS `_mpql_obj0`,
      CASE
        WHEN (
          SCHEMA_OF_VARIANT(`_mpql_j1`) IN ('BIGINT', 'DOUBLE', 'INT', 'SMALLINT', 'TINYINT', 'FLOAT')
        )
        OR (
          SCHEMA_OF_VARIANT(`_mpql_j1`) LIKE 'DECIMAL%'
        )
        THEN VARIANT_GET(`_mpql_j1`, '$', 'double')
      END AS `_mpql_num1`,
      CASE
        WHEN SCHEMA_OF_VARIANT(`_mpql_j1`) = 'STRING'
        THEN VARIANT_GET(`_mpql_j1`, '$', 'string')
      END AS `_mpql_str1`,
      CASE
        WHEN SCHEMA_OF_VARIANT(`_mpql_j1`) = 'BOOLEAN'
        THEN VARIANT_GET(`_mpql_j1`, '$', 'boolean')
      END AS `_mpql_bool1`,
      CASE WHEN SCHEMA_OF_VARIANT(`_mpql_j1`) = 'VOID' THEN TRUE END AS `_mpql_null1`,
      CASE WHEN SCHEMA_OF_VARIANT(`_mpql_j1`) LIKE 'ARRAY%' THEN `_mpql_j1` END AS `_mpql_lst1`,
      CASE WHEN SCHEMA_OF_VARIANT(`_mpql_j1`) LIKE 'OBJECT%' THEN `_mpql_j1` END AS `_mpql_obj1`,
      CASE
        WHEN (
          SCHEMA_OF_VARIANT(`_mpql_j2`) IN ('BIGINT', 'DOUBLE', 'INT', 'SMALLINT', 'TINYINT', 'FLOAT')
        )
        OR (
          SCHEMA_OF_VARIANT(`_mpql_j2`) LIKE 'DECIMAL%'
        )
        THEN VARIANT_GET(`_mpql_j2`, '$', 'double')
      END AS `_mpql_num2`,
      CASE
        WHEN SCHEMA_OF_VARIANT(`_mpql_j2`) = 'STRING'
        THEN VARIANT_GET(`_mpql_j2`, '$', 'string')
      END AS `_mpql_str2`,
      CASE
        WHEN SCHEMA_OF_VARIANT(`_mpql_j2`) = 'BOOLEAN'
        THEN VARIANT_GET(`_mpql_j2`, '$', 'boolean')
      END AS `_mpql_bool2`,
      CASE WHEN SCHEMA_OF_VARIANT(`_mpql_j2`) = 'VOID' THEN TRUE END AS `_mpql_null2`,
      CASE WHEN SCHEMA_OF_VARIANT(`_mpql_j2`) LIKE 'ARRAY%' THEN `_mpql_j2` END AS `_mpql_lst2`,
      CASE WHEN SCHEMA_OF_VARIANT(`_mpql_j2`) LIKE 'OBJECT%' THEN `_mpql_j2` END AS `_mpql_obj2`
    FROM (
      SELECT
        *,
        VARIANT_GET(`_mpql_props`, '$["plan"]') AS `_mpql_j0`,
        VARIANT_GET(`_mpql_props`, '$["$time"]') AS `_mpql_j1`,
        VARIANT_GET(`_mpql_props`, '$["n"]') AS `_mpql_j2`
      FROM (
        SELECT
          *,
          TRY_PARSE_JSON(`properties`) AS `_mpql_props`
        FROM `mp_master_event`
      ) AS _mpql_l0
    ) AS _mpql_l1
  ) AS _mpql_l2
) AS _mpql_l3
WHERE
  (
    (
      (
        COALESCE(`_mpql_num0` > CAST(1 AS DOUBLE), FALSE)
        AND (
          `event_name` IN ('Signup')
        )
      )
      AND (
        CASE
          WHEN `_mpql_j1` IS NULL
          THEN CAST(FLOOR(UNIX_TIMESTAMP(`time`)) AS DOUBLE)
          ELSE `_mpql_dt1`
        END >= 1704067200
      )
    )
    AND (
      CASE
        WHEN `_mpql_j1` IS NULL
        THEN CAST(FLOOR(UNIX_TIMESTAMP(`time`)) AS DOUBLE)
        ELSE `_mpql_dt1`
      END < 1706745600
    )
  )
  AND (
    NOT (
      CASE
        WHEN (
          CASE
            WHEN ABS(`_mpql_num2` + CAST(1 AS DOUBLE)) <= 1.7976931348623157e308
            THEN `_mpql_num2` + CAST(1 AS DOUBLE)
          END = FLOOR(
            CASE
              WHEN ABS(`_mpql_num2` + CAST(1 AS DOUBLE)) <= 1.7976931348623157e308
              THEN `_mpql_num2` + CAST(1 AS DOUBLE)
            END
          )
        )
        AND (
          ABS(
            CASE
              WHEN ABS(`_mpql_num2` + CAST(1 AS DOUBLE)) <= 1.7976931348623157e308
              THEN `_mpql_num2` + CAST(1 AS DOUBLE)
            END
          ) < 1e16
        )
        THEN CAST(CAST(CASE
          WHEN ABS(`_mpql_num2` + CAST(1 AS DOUBLE)) <= 1.7976931348623157e308
          THEN `_mpql_num2` + CAST(1 AS DOUBLE)
        END AS BIGINT) AS STRING)
        ELSE CAST(CASE
          WHEN ABS(`_mpql_num2` + CAST(1 AS DOUBLE)) <= 1.7976931348623157e308
          THEN `_mpql_num2` + CAST(1 AS DOUBLE)
        END AS STRING)
      END IS NULL
    )
  )
GROUP BY
  `period`,
  `segment`
ORDER BY
  `period`,
  `segment`;
