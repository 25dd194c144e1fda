-- export: properties["n"] > 5 and properties["n"] <= 10.5
COALESCE(
  NOT (
    (
      NOT COALESCE(
        CASE
          WHEN JSON_TYPE(JSON_EXTRACT("properties", '/n')) IN ('BIGINT', 'UBIGINT', 'DOUBLE', 'HUGEINT')
          THEN CAST(JSON_EXTRACT("properties", '/n') AS DOUBLE)
        END > CAST(5 AS DOUBLE),
        FALSE
      )
    )
    OR (
      NOT COALESCE(
        CASE
          WHEN JSON_TYPE(JSON_EXTRACT("properties", '/n')) IN ('BIGINT', 'UBIGINT', 'DOUBLE', 'HUGEINT')
          THEN CAST(JSON_EXTRACT("properties", '/n') AS DOUBLE)
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
    WHEN JSON_EXTRACT("properties", '/os') IS NULL
    THEN NULL
    ELSE (
      COALESCE(
        CASE
          WHEN JSON_TYPE(JSON_EXTRACT("properties", '/os')) = 'VARCHAR'
          THEN JSON_EXTRACT_STRING(JSON_EXTRACT("properties", '/os'), '$')
        END = 'iOS',
        FALSE
      )
      OR COALESCE(
        CASE
          WHEN JSON_TYPE(JSON_EXTRACT("properties", '/os')) = 'VARCHAR'
          THEN JSON_EXTRACT_STRING(JSON_EXTRACT("properties", '/os'), '$')
        END = 'Android',
        FALSE
      )
    )
    OR COALESCE(
      CASE
        WHEN JSON_TYPE(JSON_EXTRACT("properties", '/os')) IN ('BIGINT', 'UBIGINT', 'DOUBLE', 'HUGEINT')
        THEN CAST(JSON_EXTRACT("properties", '/os') AS DOUBLE)
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
                  WHEN JSON_TYPE(JSON_EXTRACT("properties", '/d')) IN ('BIGINT', 'UBIGINT', 'DOUBLE', 'HUGEINT')
                  THEN CAST(JSON_EXTRACT("properties", '/d') AS DOUBLE)
                END <> 0
                THEN (
                  -CASE
                    WHEN JSON_TYPE(JSON_EXTRACT("properties", '/n')) IN ('BIGINT', 'UBIGINT', 'DOUBLE', 'HUGEINT')
                    THEN CAST(JSON_EXTRACT("properties", '/n') AS DOUBLE)
                  END
                ) / CASE
                  WHEN JSON_TYPE(JSON_EXTRACT("properties", '/d')) IN ('BIGINT', 'UBIGINT', 'DOUBLE', 'HUGEINT')
                  THEN CAST(JSON_EXTRACT("properties", '/d') AS DOUBLE)
                END
              END
            ) <= 1.7976931348623157e308
            THEN CASE
              WHEN CASE
                WHEN JSON_TYPE(JSON_EXTRACT("properties", '/d')) IN ('BIGINT', 'UBIGINT', 'DOUBLE', 'HUGEINT')
                THEN CAST(JSON_EXTRACT("properties", '/d') AS DOUBLE)
              END <> 0
              THEN (
                -CASE
                  WHEN JSON_TYPE(JSON_EXTRACT("properties", '/n')) IN ('BIGINT', 'UBIGINT', 'DOUBLE', 'HUGEINT')
                  THEN CAST(JSON_EXTRACT("properties", '/n') AS DOUBLE)
                END
              ) / CASE
                WHEN JSON_TYPE(JSON_EXTRACT("properties", '/d')) IN ('BIGINT', 'UBIGINT', 'DOUBLE', 'HUGEINT')
                THEN CAST(JSON_EXTRACT("properties", '/d') AS DOUBLE)
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
                WHEN JSON_TYPE(JSON_EXTRACT("properties", '/d')) IN ('BIGINT', 'UBIGINT', 'DOUBLE', 'HUGEINT')
                THEN CAST(JSON_EXTRACT("properties", '/d') AS DOUBLE)
              END <> 0
              THEN (
                -CASE
                  WHEN JSON_TYPE(JSON_EXTRACT("properties", '/n')) IN ('BIGINT', 'UBIGINT', 'DOUBLE', 'HUGEINT')
                  THEN CAST(JSON_EXTRACT("properties", '/n') AS DOUBLE)
                END
              ) / CASE
                WHEN JSON_TYPE(JSON_EXTRACT("properties", '/d')) IN ('BIGINT', 'UBIGINT', 'DOUBLE', 'HUGEINT')
                THEN CAST(JSON_EXTRACT("properties", '/d') AS DOUBLE)
              END
            END
          ) <= 1.7976931348623157e308
          THEN CASE
            WHEN CASE
              WHEN JSON_TYPE(JSON_EXTRACT("properties", '/d')) IN ('BIGINT', 'UBIGINT', 'DOUBLE', 'HUGEINT')
              THEN CAST(JSON_EXTRACT("properties", '/d') AS DOUBLE)
            END <> 0
            THEN (
              -CASE
                WHEN JSON_TYPE(JSON_EXTRACT("properties", '/n')) IN ('BIGINT', 'UBIGINT', 'DOUBLE', 'HUGEINT')
                THEN CAST(JSON_EXTRACT("properties", '/n') AS DOUBLE)
              END
            ) / CASE
              WHEN JSON_TYPE(JSON_EXTRACT("properties", '/d')) IN ('BIGINT', 'UBIGINT', 'DOUBLE', 'HUGEINT')
              THEN CAST(JSON_EXTRACT("properties", '/d') AS DOUBLE)
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
  STARTS_WITH(
    CASE
      WHEN CASE
        WHEN REGEXP_FULL_MATCH(
          CASE
            WHEN JSON_TYPE(JSON_EXTRACT("properties", '/it''s')) = 'VARCHAR'
            THEN JSON_EXTRACT_STRING(JSON_EXTRACT("properties", '/it''s'), '$')
          END,
          '[0-9]{4}-[0-9]{2}-[0-9]{2}(?:T[0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]{1,9})?Z?)?'
        )
        THEN CASE
          WHEN (
            NOT (
              TRY_CAST(SUBSTRING(
                CASE
                  WHEN JSON_TYPE(JSON_EXTRACT("properties", '/it''s')) = 'VARCHAR'
                  THEN JSON_EXTRACT_STRING(JSON_EXTRACT("properties", '/it''s'), '$')
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
                      WHEN JSON_TYPE(JSON_EXTRACT("properties", '/it''s')) = 'VARCHAR'
                      THEN JSON_EXTRACT_STRING(JSON_EXTRACT("properties", '/it''s'), '$')
                    END,
                    1,
                    4
                  ) <> '0000'
                )
                AND (
                  COALESCE(
                    TRY_CAST(SUBSTRING(
                      CASE
                        WHEN JSON_TYPE(JSON_EXTRACT("properties", '/it''s')) = 'VARCHAR'
                        THEN JSON_EXTRACT_STRING(JSON_EXTRACT("properties", '/it''s'), '$')
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
                      WHEN JSON_TYPE(JSON_EXTRACT("properties", '/it''s')) = 'VARCHAR'
                      THEN JSON_EXTRACT_STRING(JSON_EXTRACT("properties", '/it''s'), '$')
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
                    WHEN JSON_TYPE(JSON_EXTRACT("properties", '/it''s')) = 'VARCHAR'
                    THEN JSON_EXTRACT_STRING(JSON_EXTRACT("properties", '/it''s'), '$')
                  END,
                  18,
                  2
                ) AS INT),
                0
              ) < 60
            )
          )
          THEN (
            CAST(DATE_DIFF(
              'day',
              CAST('1970-01-01' AS DATE),
              TRY_CAST(SUBSTRING(
                CASE
                  WHEN JSON_TYPE(JSON_EXTRACT("properties", '/it''s')) = 'VARCHAR'
                  THEN JSON_EXTRACT_STRING(JSON_EXTRACT("properties", '/it''s'), '$')
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
                    WHEN JSON_TYPE(JSON_EXTRACT("properties", '/it''s')) = 'VARCHAR'
                    THEN JSON_EXTRACT_STRING(JSON_EXTRACT("properties", '/it''s'), '$')
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
                      WHEN JSON_TYPE(JSON_EXTRACT("properties", '/it''s')) = 'VARCHAR'
                      THEN JSON_EXTRACT_STRING(JSON_EXTRACT("properties", '/it''s'), '$')
                    END,
                    15,
                    2
                  ) AS INT),
                  0
                ) * 60
              ) + COALESCE(
                TRY_CAST(SUBSTRING(
                  CASE
                    WHEN JSON_TYPE(JSON_EXTRACT("properties", '/it''s')) = 'VARCHAR'
                    THEN JSON_EXTRACT_STRING(JSON_EXTRACT("properties", '/it''s'), '$')
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
        WHEN JSON_TYPE(JSON_EXTRACT("properties", '/it''s')) = 'VARCHAR'
        THEN JSON_EXTRACT_STRING(JSON_EXTRACT("properties", '/it''s'), '$')
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
          WHEN JSON_TYPE(JSON_EXTRACT("properties", '/n')) IN ('BIGINT', 'UBIGINT', 'DOUBLE', 'HUGEINT')
          THEN CAST(JSON_EXTRACT("properties", '/n') AS DOUBLE)
        END > CAST(5 AS DOUBLE),
        FALSE
      )
    )
    OR (
      NOT COALESCE(
        CASE
          WHEN JSON_TYPE(JSON_EXTRACT("properties", '/n')) IN ('BIGINT', 'UBIGINT', 'DOUBLE', 'HUGEINT')
          THEN CAST(JSON_EXTRACT("properties", '/n') AS DOUBLE)
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
    WHEN JSON_EXTRACT("properties", '/os') IS NULL
    THEN NULL
    ELSE (
      COALESCE(
        CASE
          WHEN JSON_TYPE(JSON_EXTRACT("properties", '/os')) = 'VARCHAR'
          THEN JSON_EXTRACT_STRING(JSON_EXTRACT("properties", '/os'), '$')
        END = 'iOS',
        FALSE
      )
      OR COALESCE(
        CASE
          WHEN JSON_TYPE(JSON_EXTRACT("properties", '/os')) = 'VARCHAR'
          THEN JSON_EXTRACT_STRING(JSON_EXTRACT("properties", '/os'), '$')
        END = 'Android',
        FALSE
      )
    )
    OR COALESCE(
      CASE
        WHEN JSON_TYPE(JSON_EXTRACT("properties", '/os')) IN ('BIGINT', 'UBIGINT', 'DOUBLE', 'HUGEINT')
        THEN CAST(JSON_EXTRACT("properties", '/os') AS DOUBLE)
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
                  WHEN JSON_TYPE(JSON_EXTRACT("properties", '/d')) IN ('BIGINT', 'UBIGINT', 'DOUBLE', 'HUGEINT')
                  THEN CAST(JSON_EXTRACT("properties", '/d') AS DOUBLE)
                END <> 0
                THEN (
                  -CASE
                    WHEN JSON_TYPE(JSON_EXTRACT("properties", '/n')) IN ('BIGINT', 'UBIGINT', 'DOUBLE', 'HUGEINT')
                    THEN CAST(JSON_EXTRACT("properties", '/n') AS DOUBLE)
                  END
                ) / CASE
                  WHEN JSON_TYPE(JSON_EXTRACT("properties", '/d')) IN ('BIGINT', 'UBIGINT', 'DOUBLE', 'HUGEINT')
                  THEN CAST(JSON_EXTRACT("properties", '/d') AS DOUBLE)
                END
              END
            ) <= 1.7976931348623157e308
            THEN CASE
              WHEN CASE
                WHEN JSON_TYPE(JSON_EXTRACT("properties", '/d')) IN ('BIGINT', 'UBIGINT', 'DOUBLE', 'HUGEINT')
                THEN CAST(JSON_EXTRACT("properties", '/d') AS DOUBLE)
              END <> 0
              THEN (
                -CASE
                  WHEN JSON_TYPE(JSON_EXTRACT("properties", '/n')) IN ('BIGINT', 'UBIGINT', 'DOUBLE', 'HUGEINT')
                  THEN CAST(JSON_EXTRACT("properties", '/n') AS DOUBLE)
                END
              ) / CASE
                WHEN JSON_TYPE(JSON_EXTRACT("properties", '/d')) IN ('BIGINT', 'UBIGINT', 'DOUBLE', 'HUGEINT')
                THEN CAST(JSON_EXTRACT("properties", '/d') AS DOUBLE)
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
                WHEN JSON_TYPE(JSON_EXTRACT("properties", '/d')) IN ('BIGINT', 'UBIGINT', 'DOUBLE', 'HUGEINT')
                THEN CAST(JSON_EXTRACT("properties", '/d') AS DOUBLE)
              END <> 0
              THEN (
                -CASE
                  WHEN JSON_TYPE(JSON_EXTRACT("properties", '/n')) IN ('BIGINT', 'UBIGINT', 'DOUBLE', 'HUGEINT')
                  THEN CAST(JSON_EXTRACT("properties", '/n') AS DOUBLE)
                END
              ) / CASE
                WHEN JSON_TYPE(JSON_EXTRACT("properties", '/d')) IN ('BIGINT', 'UBIGINT', 'DOUBLE', 'HUGEINT')
                THEN CAST(JSON_EXTRACT("properties", '/d') AS DOUBLE)
              END
            END
          ) <= 1.7976931348623157e308
          THEN CASE
            WHEN CASE
              WHEN JSON_TYPE(JSON_EXTRACT("properties", '/d')) IN ('BIGINT', 'UBIGINT', 'DOUBLE', 'HUGEINT')
              THEN CAST(JSON_EXTRACT("properties", '/d') AS DOUBLE)
            END <> 0
            THEN (
              -CASE
                WHEN JSON_TYPE(JSON_EXTRACT("properties", '/n')) IN ('BIGINT', 'UBIGINT', 'DOUBLE', 'HUGEINT')
                THEN CAST(JSON_EXTRACT("properties", '/n') AS DOUBLE)
              END
            ) / CASE
              WHEN JSON_TYPE(JSON_EXTRACT("properties", '/d')) IN ('BIGINT', 'UBIGINT', 'DOUBLE', 'HUGEINT')
              THEN CAST(JSON_EXTRACT("properties", '/d') AS DOUBLE)
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
  STARTS_WITH(
    CASE
      WHEN CASE
        WHEN REGEXP_FULL_MATCH(
          CASE
            WHEN JSON_TYPE(JSON_EXTRACT("properties", '/it''s')) = 'VARCHAR'
            THEN JSON_EXTRACT_STRING(JSON_EXTRACT("properties", '/it''s'), '$')
          END,
          '[0-9]{4}-[0-9]{2}-[0-9]{2}(?:T[0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]{1,9})?Z?)?'
        )
        THEN CASE
          WHEN (
            NOT (
              TRY_CAST(SUBSTRING(
                CASE
                  WHEN JSON_TYPE(JSON_EXTRACT("properties", '/it''s')) = 'VARCHAR'
                  THEN JSON_EXTRACT_STRING(JSON_EXTRACT("properties", '/it''s'), '$')
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
                      WHEN JSON_TYPE(JSON_EXTRACT("properties", '/it''s')) = 'VARCHAR'
                      THEN JSON_EXTRACT_STRING(JSON_EXTRACT("properties", '/it''s'), '$')
                    END,
                    1,
                    4
                  ) <> '0000'
                )
                AND (
                  COALESCE(
                    TRY_CAST(SUBSTRING(
                      CASE
                        WHEN JSON_TYPE(JSON_EXTRACT("properties", '/it''s')) = 'VARCHAR'
                        THEN JSON_EXTRACT_STRING(JSON_EXTRACT("properties", '/it''s'), '$')
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
                      WHEN JSON_TYPE(JSON_EXTRACT("properties", '/it''s')) = 'VARCHAR'
                      THEN JSON_EXTRACT_STRING(JSON_EXTRACT("properties", '/it''s'), '$')
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
                    WHEN JSON_TYPE(JSON_EXTRACT("properties", '/it''s')) = 'VARCHAR'
                    THEN JSON_EXTRACT_STRING(JSON_EXTRACT("properties", '/it''s'), '$')
                  END,
                  18,
                  2
                ) AS INT),
                0
              ) < 60
            )
          )
          THEN (
            CAST(DATE_DIFF(
              'day',
              CAST('1970-01-01' AS DATE),
              TRY_CAST(SUBSTRING(
                CASE
                  WHEN JSON_TYPE(JSON_EXTRACT("properties", '/it''s')) = 'VARCHAR'
                  THEN JSON_EXTRACT_STRING(JSON_EXTRACT("properties", '/it''s'), '$')
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
                    WHEN JSON_TYPE(JSON_EXTRACT("properties", '/it''s')) = 'VARCHAR'
                    THEN JSON_EXTRACT_STRING(JSON_EXTRACT("properties", '/it''s'), '$')
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
                      WHEN JSON_TYPE(JSON_EXTRACT("properties", '/it''s')) = 'VARCHAR'
                      THEN JSON_EXTRACT_STRING(JSON_EXTRACT("properties", '/it''s'), '$')
                    END,
                    15,
                    2
                  ) AS INT),
                  0
                ) * 60
              ) + COALESCE(
                TRY_CAST(SUBSTRING(
                  CASE
                    WHEN JSON_TYPE(JSON_EXTRACT("properties", '/it''s')) = 'VARCHAR'
                    THEN JSON_EXTRACT_STRING(JSON_EXTRACT("properties", '/it''s'), '$')
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
        WHEN JSON_TYPE(JSON_EXTRACT("properties", '/it''s')) = 'VARCHAR'
        THEN JSON_EXTRACT_STRING(JSON_EXTRACT("properties", '/it''s'), '$')
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
      WHEN JSON_TYPE(JSON_EXTRACT("$properties", '/n')) IN ('BIGINT', 'UBIGINT', 'DOUBLE', 'HUGEINT')
      THEN CAST(JSON_EXTRACT("$properties", '/n') AS DOUBLE)
    END = CAST(10 AS DOUBLE),
    FALSE
  ),
  FALSE
);

-- engage: properties["distinct_id"] == 5
COALESCE(
  COALESCE(
    CASE
      WHEN JSON_EXTRACT("$properties", '/distinct_id') IS NULL
      THEN CASE
        WHEN JSON_TYPE(TO_JSON("$distinct_id")) IN ('BIGINT', 'UBIGINT', 'DOUBLE', 'HUGEINT')
        THEN CAST(TO_JSON("$distinct_id") AS DOUBLE)
      END
      ELSE CASE
        WHEN JSON_TYPE(JSON_EXTRACT("$properties", '/distinct_id')) IN ('BIGINT', 'UBIGINT', 'DOUBLE', 'HUGEINT')
        THEN CAST(JSON_EXTRACT("$properties", '/distinct_id') AS DOUBLE)
      END
    END = CAST(5 AS DOUBLE),
    FALSE
  ),
  FALSE
);

-- select: count per day and $os
SELECT
  CAST(CAST('1970-01-01' AS DATE) + CAST(FLOOR(
    CASE
      WHEN "_mpql_j1" IS NULL
      THEN CAST(FLOOR(EPOCH("time")) AS DOUBLE)
      ELSE "_mpql_dt1"
    END / 86400
  ) AS INT) AS TEXT) AS "period",
  CASE
    WHEN (
      CASE
        WHEN ABS("_mpql_num2" + CAST(1 AS DOUBLE)) <= 1.7976931348623157e308
        THEN "_mpql_num2" + CAST(1 AS DOUBLE)
      END = FLOOR(
        CASE
          WHEN ABS("_mpql_num2" + CAST(1 AS DOUBLE)) <= 1.7976931348623157e308
          THEN "_mpql_num2" + CAST(1 AS DOUBLE)
        END
      )
    )
    AND (
      ABS(
        CASE
          WHEN ABS("_mpql_num2" + CAST(1 AS DOUBLE)) <= 1.7976931348623157e308
          THEN "_mpql_num2" + CAST(1 AS DOUBLE)
        END
      ) < 1e16
    )
    THEN CAST(CAST(CASE
      WHEN ABS("_mpql_num2" + CAST(1 AS DOUBLE)) <= 1.7976931348623157e308
      THEN "_mpql_num2" + CAST(1 AS DOUBLE)
    END AS BIGINT) AS TEXT)
    ELSE CAST(CASE
      WHEN ABS("_mpql_num2" + CAST(1 AS DOUBLE)) <= 1.7976931348623157e308
      THEN "_mpql_num2" + CAST(1 AS DOUBLE)
    END AS TEXT)
  END AS "segment",
  COUNT(*) AS "count"
FROM (
  SELECT
    *,
    CASE
      WHEN REGEXP_FULL_MATCH(
        "_mpql_str0",
        '[0-9]{4}-[0-9]{2}-[0-9]{2}(?:T[0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]{1,9})?Z?)?'
      )
      THEN CASE
        WHEN (
          NOT (
            TRY_CAST(SUBSTRING("_mpql_str0", 1, 10) AS DATE) IS NULL
          )
        )
        AND (
          (
            (
              (
                SUBSTRING("_mpql_str0", 1, 4) <> '0000'
              )
              AND (
                COALESCE(TRY_CAST(SUBSTRING("_mpql_str0", 12, 2) AS INT), 0) < 24
              )
            )
            AND (
              COALESCE(TRY_CAST(SUBSTRING("_mpql_str0", 15, 2) AS INT), 0) < 60
            )
          )
          AND (
            COALESCE(TRY_CAST(SUBSTRING("_mpql_str0", 18, 2) AS INT), 0) < 60
          )
        )
        THEN (
          CAST(DATE_DIFF('day', CAST('1970-01-01' AS DATE), TRY_CAST(SUBSTRING("_mpql_str0", 1, 10) AS DATE)) AS DOUBLE) * 86400
        ) + (
          (
            COALESCE(TRY_CAST(SUBSTRING("_mpql_str0", 12, 2) AS INT), 0) * 3600
          ) + (
            (
              COALESCE(TRY_CAST(SUBSTRING("_mpql_str0", 15, 2) AS INT), 0) * 60
            ) + COALESCE(TRY_CAST(SUBSTRING("_mpql_str0", 18, 2) AS INT), 0)
          )
        )
      END
    END AS "_mpql_dt0",
    CASE
      WHEN REGEXP_FULL_MATCH(
        "_mpql_str1",
        '[0-9]{4}-[0-9]{2}-[0-9]{2}(?:T[0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]{1,9})?Z?)?'
      )
      THEN CASE
        WHEN (
          NOT (
            TRY_CAST(SUBSTRING("_mpql_str1", 1, 10) AS DATE) IS NULL
          )
        )
        AND (
          (
            (
              (
                SUBSTRING("_mpql_str1", 1, 4) <> '0000'
              )
              AND (
                COALESCE(TRY_CAST(SUBSTRING("_mpql_str1", 12, 2) AS INT), 0) < 24
              )
            )
            AND (
              COALESCE(TRY_CAST(SUBSTRING("_mpql_str1", 15, 2) AS INT), 0) < 60
            )
          )
          AND (
            COALESCE(TRY_CAST(SUBSTRING("_mpql_str1", 18, 2) AS INT), 0) < 60
          )
        )
        THEN (
          CAST(DATE_DIFF('day', CAST('1970-01-01' AS DATE), TRY_CAST(SUBSTRING("_mpql_str1", 1, 10) AS DATE)) AS DOUBLE) * 86400
        ) + (
          (
            COALESCE(TRY_CAST(SUBSTRING("_mpql_str1", 12, 2) AS INT), 0) * 3600
          ) + (
            (
              COALESCE(TRY_CAST(SUBSTRING("_mpql_str1", 15, 2) AS INT), 0) * 60
            ) + COALESCE(TRY_CAST(SUBSTRING("_mpql_str1", 18, 2) AS INT), 0)
          )
        )
      END
    END AS "_mpql_dt1",
    CASE
      WHEN REGEXP_FULL_MATCH(
        "_mpql_str2",
        '[0-9]{4}-[0-9]{2}-[0-9]{2}(?:T[0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]{1,9})?Z?)?'
      )
      THEN CASE
        WHEN (
          NOT (
            TRY_CAST(SUBSTRING("_mpql_str2", 1, 10) AS DATE) IS NULL
          )
        )
        AND (
          (
            (
              (
                SUBSTRING("_mpql_str2", 1, 4) <> '0000'
              )
              AND (
                COALESCE(TRY_CAST(SUBSTRING("_mpql_str2", 12, 2) AS INT), 0) < 24
              )
            )
            AND (
              COALESCE(TRY_CAST(SUBSTRING("_mpql_str2", 15, 2) AS INT), 0) < 60
            )
          )
          AND (
            COALESCE(TRY_CAST(SUBSTRING("_mpql_str2", 18, 2) AS INT), 0) < 60
          )
        )
        THEN (
          CAST(DATE_DIFF('day', CAST('1970-01-01' AS DATE), TRY_CAST(SUBSTRING("_mpql_str2", 1, 10) AS DATE)) AS DOUBLE) * 86400
        ) + (
          (
            COALESCE(TRY_CAST(SUBSTRING("_mpql_str2", 12, 2) AS INT), 0) * 3600
          ) + (
            (
              COALESCE(TRY_CAST(SUBSTRING("_mpql_str2", 15, 2) AS INT), 0) * 60
            ) + COALESCE(TRY_CAST(SUBSTRING("_mpql_str2", 18, 2) AS INT), 0)
          )
        )
      END
    END AS "_mpql_dt2"
  FROM (
    SELECT
      *,
      CASE
        WHEN JSON_TYPE("_mpql_j0") IN ('BIGINT', 'UBIGINT', 'DOUBLE', 'HUGEINT')
        THEN CAST("_mpql_j0" AS DOUBLE)
      END AS "_mpql_num0",
      CASE
        WHEN JSON_TYPE("_mpql_j0") = 'VARCHAR'
        THEN JSON_EXTRACT_STRING("_mpql_j0", '$')
      END AS "_mpql_str0",
      CASE WHEN JSON_TYPE("_mpql_j0") = 'BOOLEAN' THEN CAST("_mpql_j0" AS BOOLEAN) END AS "_mpql_bool0",
      CASE WHEN JSON_TYPE("_mpql_j0") = 'NULL' THEN TRUE END AS "_mpql_null0",
      CASE WHEN JSON_TYPE("_mpql_j0") = 'ARRAY' THEN "_mpql_j0" END AS "_mpql_lst0",
      CASE WHEN JSON_TYPE("_mpql_j0") = 'OBJECT' THEN "_mpql_j0" END AS "_mpql_obj0",
      CASE
        WHEN JSON_TYPE("_mpql_j1") IN ('BIGINT', 'UBIGINT', 'DOUBLE', 'HUGEINT')
        THEN CAST("_mpql_j1" AS DOUBLE)
      END AS "_mpql_num1",
      CASE
        WHEN JSON_TYPE("_mpql_j1") = 'VARCHAR'
        THEN JSON_EXTRACT_STRING("_mpql_j1", '$')
      END AS "_mpql_str1",
      CASE WHEN JSON_TYPE("_mpql_j1") = 'BOOLEAN' THEN CAST("_mpql_j1" AS BOOLEAN) END AS "_mpql_bool1",
      CASE WHEN JSON_TYPE("_mpql_j1") = 'NULL' THEN TRUE END AS "_mpql_null1",
      CASE WHEN JSON_TYPE("_mpql_j1") = 'ARRAY' THEN "_mpql_j1" END AS "_mpql_lst1",
      CASE WHEN JSON_TYPE("_mpql_j1") = 'OBJECT' THEN "_mpql_j1" END AS "_mpql_obj1",
      CASE
        WHEN JSON_TYPE("_mpql_j2") IN ('BIGINT', 'UBIGINT', 'DOUBLE', 'HUGEINT')
        THEN CAST("_mpql_j2" AS DOUBLE)
      END AS "_mpql_num2",
      CASE
        WHEN JSON_TYPE("_mpql_j2") = 'VARCHAR'
        THEN JSON_EXTRACT_STRING("_mpql_j2", '$')
      END AS "_mpql_str2",
      CASE WHEN JSON_TYPE("_mpql_j2") = 'BOOLEAN' THEN CAST("_mpql_j2" AS BOOLEAN) END AS "_mpql_bool2",
      CASE WHEN JSON_TYPE("_mpql_j2") = 'NULL' THEN TRUE END AS "_mpql_null2",
      CASE WHEN JSON_TYPE("_mpql_j2") = 'ARRAY' THEN "_mpql_j2" END AS "_mpql_lst2",
      CASE WHEN JSON_TYPE("_mpql_j2") = 'OBJECT' THEN "_mpql_j2" END AS "_mpql_obj2"
    FROM (
      SELECT
        *,
        JSON_EXTRACT("properties", '/plan') AS "_mpql_j0",
        JSON_EXTRACT("properties", '/$time') AS "_mpql_j1",
        JSON_EXTRACT("properties", '/n') AS "_mpql_j2"
      FROM "mp_master_event"
    ) AS _mpql_l0
  ) AS _mpql_l1
) AS _mpql_l2
WHERE
  (
    (
      (
        COALESCE("_mpql_num0" > CAST(1 AS DOUBLE), FALSE)
        AND (
          "event_name" IN ('Signup')
        )
      )
      AND (
        CASE
          WHEN "_mpql_j1" IS NULL
          THEN CAST(FLOOR(EPOCH("time")) AS DOUBLE)
          ELSE "_mpql_dt1"
        END >= 1704067200
      )
    )
    AND (
      CASE
        WHEN "_mpql_j1" IS NULL
        THEN CAST(FLOOR(EPOCH("time")) AS DOUBLE)
        ELSE "_mpql_dt1"
      END < 1706745600
    )
  )
  AND (
    NOT (
      CASE
        WHEN (
          CASE
            WHEN ABS("_mpql_num2" + CAST(1 AS DOUBLE)) <= 1.7976931348623157e308
            THEN "_mpql_num2" + CAST(1 AS DOUBLE)
          END = FLOOR(
            CASE
              WHEN ABS("_mpql_num2" + CAST(1 AS DOUBLE)) <= 1.7976931348623157e308
              THEN "_mpql_num2" + CAST(1 AS DOUBLE)
            END
          )
        )
        AND (
          ABS(
            CASE
              WHEN ABS("_mpql_num2" + CAST(1 AS DOUBLE)) <= 1.7976931348623157e308
              THEN "_mpql_num2" + CAST(1 AS DOUBLE)
            END
          ) < 1e16
        )
        THEN CAST(CAST(CASE
          WHEN ABS("_mpql_num2" + CAST(1 AS DOUBLE)) <= 1.7976931348623157e308
          THEN "_mpql_num2" + CAST(1 AS DOUBLE)
        END AS BIGINT) AS TEXT)
        ELSE CAST(CASE
          WHEN ABS("_mpql_num2" + CAST(1 AS DOUBLE)) <= 1.7976931348623157e308
          THEN "_mpql_num2" + CAST(1 AS DOUBLE)
        END AS TEXT)
      END IS NULL
    )
  )
GROUP BY
  "period",
  "segment"
ORDER BY
  "period",
  "segment";
