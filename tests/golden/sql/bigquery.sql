-- export: properties["n"] > 5 and properties["n"] <= 10.5
COALESCE(
  NOT (
    (
      NOT COALESCE(
        CASE
          WHEN JSON_TYPE(`properties`['n']) = 'number'
          THEN LAX_FLOAT64(`properties`['n'])
        END > CAST(5 AS FLOAT64),
        FALSE
      )
    )
    OR (
      NOT COALESCE(
        CASE
          WHEN JSON_TYPE(`properties`['n']) = 'number'
          THEN LAX_FLOAT64(`properties`['n'])
        END <= CAST(10.5 AS FLOAT64),
        FALSE
      )
    )
  ),
  FALSE
);

-- export: properties["os"] in ["iOS", "Android", 1]
COALESCE(
  CASE
    WHEN `properties`['os'] IS NULL
    THEN NULL
    ELSE (
      COALESCE(
        CASE
          WHEN JSON_TYPE(`properties`['os']) = 'string'
          THEN STRING(`properties`['os'])
        END = 'iOS',
        FALSE
      )
      OR COALESCE(
        CASE
          WHEN JSON_TYPE(`properties`['os']) = 'string'
          THEN STRING(`properties`['os'])
        END = 'Android',
        FALSE
      )
    )
    OR COALESCE(
      CASE
        WHEN JSON_TYPE(`properties`['os']) = 'number'
        THEN LAX_FLOAT64(`properties`['os'])
      END = CAST(1 AS FLOAT64),
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
          WHEN CAST(3 AS FLOAT64) <> 0
          THEN MOD(
            CASE
              WHEN ABS(
                CASE
                  WHEN CASE
                    WHEN JSON_TYPE(`properties`['d']) = 'number'
                    THEN LAX_FLOAT64(`properties`['d'])
                  END <> 0
                  THEN (
                    -CASE
                      WHEN JSON_TYPE(`properties`['n']) = 'number'
                      THEN LAX_FLOAT64(`properties`['n'])
                    END
                  ) / CASE
                    WHEN JSON_TYPE(`properties`['d']) = 'number'
                    THEN LAX_FLOAT64(`properties`['d'])
                  END
                END
              ) <= 1.7976931348623157e308
              THEN CASE
                WHEN CASE
                  WHEN JSON_TYPE(`properties`['d']) = 'number'
                  THEN LAX_FLOAT64(`properties`['d'])
                END <> 0
                THEN (
                  -CASE
                    WHEN JSON_TYPE(`properties`['n']) = 'number'
                    THEN LAX_FLOAT64(`properties`['n'])
                  END
                ) / CASE
                  WHEN JSON_TYPE(`properties`['d']) = 'number'
                  THEN LAX_FLOAT64(`properties`['d'])
                END
              END
            END,
            CAST(3 AS FLOAT64)
          )
        END
      ) <= 1.7976931348623157e308
      THEN CASE
        WHEN CAST(3 AS FLOAT64) <> 0
        THEN MOD(
          CASE
            WHEN ABS(
              CASE
                WHEN CASE
                  WHEN JSON_TYPE(`properties`['d']) = 'number'
                  THEN LAX_FLOAT64(`properties`['d'])
                END <> 0
                THEN (
                  -CASE
                    WHEN JSON_TYPE(`properties`['n']) = 'number'
                    THEN LAX_FLOAT64(`properties`['n'])
                  END
                ) / CASE
                  WHEN JSON_TYPE(`properties`['d']) = 'number'
                  THEN LAX_FLOAT64(`properties`['d'])
                END
              END
            ) <= 1.7976931348623157e308
            THEN CASE
              WHEN CASE
                WHEN JSON_TYPE(`properties`['d']) = 'number'
                THEN LAX_FLOAT64(`properties`['d'])
              END <> 0
              THEN (
                -CASE
                  WHEN JSON_TYPE(`properties`['n']) = 'number'
                  THEN LAX_FLOAT64(`properties`['n'])
                END
              ) / CASE
                WHEN JSON_TYPE(`properties`['d']) = 'number'
                THEN LAX_FLOAT64(`properties`['d'])
              END
            END
          END,
          CAST(3 AS FLOAT64)
        )
      END
    END = (
      -CAST(1 AS FLOAT64)
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
        WHEN REGEXP_CONTAINS(
          CASE
            WHEN JSON_TYPE(`properties`['it\'s']) = 'string'
            THEN STRING(`properties`['it\'s'])
          END,
          '^(?:[0-9]{4}-[0-9]{2}-[0-9]{2}(?:T[0-9]{2}:[0-9]{2}:[0-9]{2}(?:\\.[0-9]{1,9})?Z?)?)$'
        )
        THEN CASE
          WHEN (
            NOT (
              SAFE_CAST(SUBSTRING(
                CASE
                  WHEN JSON_TYPE(`properties`['it\'s']) = 'string'
                  THEN STRING(`properties`['it\'s'])
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
                      WHEN JSON_TYPE(`properties`['it\'s']) = 'string'
                      THEN STRING(`properties`['it\'s'])
                    END,
                    1,
                    4
                  ) <> '0000'
                )
                AND (
                  COALESCE(
                    SAFE_CAST(SUBSTRING(
                      CASE
                        WHEN JSON_TYPE(`properties`['it\'s']) = 'string'
                        THEN STRING(`properties`['it\'s'])
                      END,
                      12,
                      2
                    ) AS INT64),
                    0
                  ) < 24
                )
              )
              AND (
                COALESCE(
                  SAFE_CAST(SUBSTRING(
                    CASE
                      WHEN JSON_TYPE(`properties`['it\'s']) = 'string'
                      THEN STRING(`properties`['it\'s'])
                    END,
                    15,
                    2
                  ) AS INT64),
                  0
                ) < 60
              )
            )
            AND (
              COALESCE(
                SAFE_CAST(SUBSTRING(
                  CASE
                    WHEN JSON_TYPE(`properties`['it\'s']) = 'string'
                    THEN STRING(`properties`['it\'s'])
                  END,
                  18,
                  2
                ) AS INT64),
                0
              ) < 60
            )
          )
          THEN (
            CAST(UNIX_DATE(
              SAFE_CAST(SUBSTRING(
                CASE
                  WHEN JSON_TYPE(`properties`['it\'s']) = 'string'
                  THEN STRING(`properties`['it\'s'])
                END,
                1,
                10
              ) AS DATE)
            ) AS FLOAT64) * 86400
          ) + (
            (
              COALESCE(
                SAFE_CAST(SUBSTRING(
                  CASE
                    WHEN JSON_TYPE(`properties`['it\'s']) = 'string'
                    THEN STRING(`properties`['it\'s'])
                  END,
                  12,
                  2
                ) AS INT64),
                0
              ) * 3600
            ) + (
              (
                COALESCE(
                  SAFE_CAST(SUBSTRING(
                    CASE
                      WHEN JSON_TYPE(`properties`['it\'s']) = 'string'
                      THEN STRING(`properties`['it\'s'])
                    END,
                    15,
                    2
                  ) AS INT64),
                  0
                ) * 60
              ) + COALESCE(
                SAFE_CAST(SUBSTRING(
                  CASE
                    WHEN JSON_TYPE(`properties`['it\'s']) = 'string'
                    THEN STRING(`properties`['it\'s'])
                  END,
                  18,
                  2
                ) AS INT64),
                0
              )
            )
          )
        END
      END IS NULL
      THEN CASE
        WHEN JSON_TYPE(`properties`['it\'s']) = 'string'
        THEN STRING(`properties`['it\'s'])
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
          WHEN JSON_TYPE(`properties`['n']) = 'number'
          THEN LAX_FLOAT64(`properties`['n'])
        END > CAST(5 AS FLOAT64),
        FALSE
      )
    )
    OR (
      NOT COALESCE(
        CASE
          WHEN JSON_TYPE(`properties`['n']) = 'number'
          THEN LAX_FLOAT64(`properties`['n'])
        END <= CAST(10.5 AS FLOAT64),
        FALSE
      )
    )
  ),
  FALSE
);

-- pipelines: properties["os"] in ["iOS", "Android", 1]
COALESCE(
  CASE
    WHEN `properties`['os'] IS NULL
    THEN NULL
    ELSE (
      COALESCE(
        CASE
          WHEN JSON_TYPE(`properties`['os']) = 'string'
          THEN STRING(`properties`['os'])
        END = 'iOS',
        FALSE
      )
      OR COALESCE(
        CASE
          WHEN JSON_TYPE(`properties`['os']) = 'string'
          THEN STRING(`properties`['os'])
        END = 'Android',
        FALSE
      )
    )
    OR COALESCE(
      CASE
        WHEN JSON_TYPE(`properties`['os']) = 'number'
        THEN LAX_FLOAT64(`properties`['os'])
      END = CAST(1 AS FLOAT64),
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
          WHEN CAST(3 AS FLOAT64) <> 0
          THEN MOD(
            CASE
              WHEN ABS(
                CASE
                  WHEN CASE
                    WHEN JSON_TYPE(`properties`['d']) = 'number'
                    THEN LAX_FLOAT64(`properties`['d'])
                  END <> 0
                  THEN (
                    -CASE
                      WHEN JSON_TYPE(`properties`['n']) = 'number'
                      THEN LAX_FLOAT64(`properties`['n'])
                    END
                  ) / CASE
                    WHEN JSON_TYPE(`properties`['d']) = 'number'
                    THEN LAX_FLOAT64(`properties`['d'])
                  END
                END
              ) <= 1.7976931348623157e308
              THEN CASE
                WHEN CASE
                  WHEN JSON_TYPE(`properties`['d']) = 'number'
                  THEN LAX_FLOAT64(`properties`['d'])
                END <> 0
                THEN (
                  -CASE
                    WHEN JSON_TYPE(`properties`['n']) = 'number'
                    THEN LAX_FLOAT64(`properties`['n'])
                  END
                ) / CASE
                  WHEN JSON_TYPE(`properties`['d']) = 'number'
                  THEN LAX_FLOAT64(`properties`['d'])
                END
              END
            END,
            CAST(3 AS FLOAT64)
          )
        END
      ) <= 1.7976931348623157e308
      THEN CASE
        WHEN CAST(3 AS FLOAT64) <> 0
        THEN MOD(
          CASE
            WHEN ABS(
              CASE
                WHEN CASE
                  WHEN JSON_TYPE(`properties`['d']) = 'number'
                  THEN LAX_FLOAT64(`properties`['d'])
                END <> 0
                THEN (
                  -CASE
                    WHEN JSON_TYPE(`properties`['n']) = 'number'
                    THEN LAX_FLOAT64(`properties`['n'])
                  END
                ) / CASE
                  WHEN JSON_TYPE(`properties`['d']) = 'number'
                  THEN LAX_FLOAT64(`properties`['d'])
                END
              END
            ) <= 1.7976931348623157e308
            THEN CASE
              WHEN CASE
                WHEN JSON_TYPE(`properties`['d']) = 'number'
                THEN LAX_FLOAT64(`properties`['d'])
              END <> 0
              THEN (
                -CASE
                  WHEN JSON_TYPE(`properties`['n']) = 'number'
                  THEN LAX_FLOAT64(`properties`['n'])
                END
              ) / CASE
                WHEN JSON_TYPE(`properties`['d']) = 'number'
                THEN LAX_FLOAT64(`properties`['d'])
              END
            END
          END,
          CAST(3 AS FLOAT64)
        )
      END
    END = (
      -CAST(1 AS FLOAT64)
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
        WHEN REGEXP_CONTAINS(
          CASE
            WHEN JSON_TYPE(`properties`['it\'s']) = 'string'
            THEN STRING(`properties`['it\'s'])
          END,
          '^(?:[0-9]{4}-[0-9]{2}-[0-9]{2}(?:T[0-9]{2}:[0-9]{2}:[0-9]{2}(?:\\.[0-9]{1,9})?Z?)?)$'
        )
        THEN CASE
          WHEN (
            NOT (
              SAFE_CAST(SUBSTRING(
                CASE
                  WHEN JSON_TYPE(`properties`['it\'s']) = 'string'
                  THEN STRING(`properties`['it\'s'])
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
                      WHEN JSON_TYPE(`properties`['it\'s']) = 'string'
                      THEN STRING(`properties`['it\'s'])
                    END,
                    1,
                    4
                  ) <> '0000'
                )
                AND (
                  COALESCE(
                    SAFE_CAST(SUBSTRING(
                      CASE
                        WHEN JSON_TYPE(`properties`['it\'s']) = 'string'
                        THEN STRING(`properties`['it\'s'])
                      END,
                      12,
                      2
                    ) AS INT64),
                    0
                  ) < 24
                )
              )
              AND (
                COALESCE(
                  SAFE_CAST(SUBSTRING(
                    CASE
                      WHEN JSON_TYPE(`properties`['it\'s']) = 'string'
                      THEN STRING(`properties`['it\'s'])
                    END,
                    15,
                    2
                  ) AS INT64),
                  0
                ) < 60
              )
            )
            AND (
              COALESCE(
                SAFE_CAST(SUBSTRING(
                  CASE
                    WHEN JSON_TYPE(`properties`['it\'s']) = 'string'
                    THEN STRING(`properties`['it\'s'])
                  END,
                  18,
                  2
                ) AS INT64),
                0
              ) < 60
            )
          )
          THEN (
            CAST(UNIX_DATE(
              SAFE_CAST(SUBSTRING(
                CASE
                  WHEN JSON_TYPE(`properties`['it\'s']) = 'string'
                  THEN STRING(`properties`['it\'s'])
                END,
                1,
                10
              ) AS DATE)
            ) AS FLOAT64) * 86400
          ) + (
            (
              COALESCE(
                SAFE_CAST(SUBSTRING(
                  CASE
                    WHEN JSON_TYPE(`properties`['it\'s']) = 'string'
                    THEN STRING(`properties`['it\'s'])
                  END,
                  12,
                  2
                ) AS INT64),
                0
              ) * 3600
            ) + (
              (
                COALESCE(
                  SAFE_CAST(SUBSTRING(
                    CASE
                      WHEN JSON_TYPE(`properties`['it\'s']) = 'string'
                      THEN STRING(`properties`['it\'s'])
                    END,
                    15,
                    2
                  ) AS INT64),
                  0
                ) * 60
              ) + COALESCE(
                SAFE_CAST(SUBSTRING(
                  CASE
                    WHEN JSON_TYPE(`properties`['it\'s']) = 'string'
                    THEN STRING(`properties`['it\'s'])
                  END,
                  18,
                  2
                ) AS INT64),
                0
              )
            )
          )
        END
      END IS NULL
      THEN CASE
        WHEN JSON_TYPE(`properties`['it\'s']) = 'string'
        THEN STRING(`properties`['it\'s'])
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
      WHEN JSON_TYPE(`$properties`['n']) = 'number'
      THEN LAX_FLOAT64(`$properties`['n'])
    END = CAST(10 AS FLOAT64),
    FALSE
  ),
  FALSE
);

-- engage: properties["distinct_id"] == 5
COALESCE(
  COALESCE(
    CASE
      WHEN `$properties`['distinct_id'] IS NULL
      THEN CASE
        WHEN JSON_TYPE(TO_JSON(`$distinct_id`)) = 'number'
        THEN LAX_FLOAT64(TO_JSON(`$distinct_id`))
      END
      ELSE CASE
        WHEN JSON_TYPE(`$properties`['distinct_id']) = 'number'
        THEN LAX_FLOAT64(`$properties`['distinct_id'])
      END
    END = CAST(5 AS FLOAT64),
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
        THEN CAST(FLOOR(TIME_TO_UNIX(`time`)) AS FLOAT64)
        ELSE `_mpql_dt1`
      END / 86400
    ) AS INT64)
  ) AS STRING) AS `period`,
  CASE
    WHEN (
      CASE
        WHEN ABS(`_mpql_num2` + CAST(1 AS FLOAT64)) <= 1.7976931348623157e308
        THEN `_mpql_num2` + CAST(1 AS FLOAT64)
      END = FLOOR(
        CASE
          WHEN ABS(`_mpql_num2` + CAST(1 AS FLOAT64)) <= 1.7976931348623157e308
          THEN `_mpql_num2` + CAST(1 AS FLOAT64)
        END
      )
    )
    AND (
      ABS(
        CASE
          WHEN ABS(`_mpql_num2` + CAST(1 AS FLOAT64)) <= 1.7976931348623157e308
          THEN `_mpql_num2` + CAST(1 AS FLOAT64)
        END
      ) < 1e16
    )
    THEN CAST(CAST(CASE
      WHEN ABS(`_mpql_num2` + CAST(1 AS FLOAT64)) <= 1.7976931348623157e308
      THEN `_mpql_num2` + CAST(1 AS FLOAT64)
    END AS INT64) AS STRING)
    ELSE CAST(CASE
      WHEN ABS(`_mpql_num2` + CAST(1 AS FLOAT64)) <= 1.7976931348623157e308
      THEN `_mpql_num2` + CAST(1 AS FLOAT64)
    END AS STRING)
  END AS `segment`,
  COUNT(*) AS `count`
FROM (
  SELECT
    *,
    CASE
      WHEN REGEXP_CONTAINS(
        `_mpql_str0`,
        '^(?:[0-9]{4}-[0-9]{2}-[0-9]{2}(?:T[0-9]{2}:[0-9]{2}:[0-9]{2}(?:\\.[0-9]{1,9})?Z?)?)$'
      )
      THEN CASE
        WHEN (
          NOT (
            SAFE_CAST(SUBSTRING(`_mpql_str0`, 1, 10) AS DATE) IS NULL
          )
        )
        AND (
          (
            (
              (
                SUBSTRING(`_mpql_str0`, 1, 4) <> '0000'
              )
              AND (
                COALESCE(SAFE_CAST(SUBSTRING(`_mpql_str0`, 12, 2) AS INT64), 0) < 24
              )
            )
            AND (
              COALESCE(SAFE_CAST(SUBSTRING(`_mpql_str0`, 15, 2) AS INT64), 0) < 60
            )
          )
          AND (
            COALESCE(SAFE_CAST(SUBSTRING(`_mpql_str0`, 18, 2) AS INT64), 0) < 60
          )
        )
        THEN (
          CAST(UNIX_DATE(SAFE_CAST(SUBSTRING(`_mpql_str0`, 1, 10) AS DATE)) AS FLOAT64) * 86400
        ) + (
          (
            COALESCE(SAFE_CAST(SUBSTRING(`_mpql_str0`, 12, 2) AS INT64), 0) * 3600
          ) + (
            (
              COALESCE(SAFE_CAST(SUBSTRING(`_mpql_str0`, 15, 2) AS INT64), 0) * 60
            ) + COALESCE(SAFE_CAST(SUBSTRING(`_mpql_str0`, 18, 2) AS INT64), 0)
          )
        )
      END
    END AS `_mpql_dt0`,
    CASE
      WHEN REGEXP_CONTAINS(
        `_mpql_str1`,
        '^(?:[0-9]{4}-[0-9]{2}-[0-9]{2}(?:T[0-9]{2}:[0-9]{2}:[0-9]{2}(?:\\.[0-9]{1,9})?Z?)?)$'
      )
      THEN CASE
        WHEN (
          NOT (
            SAFE_CAST(SUBSTRING(`_mpql_str1`, 1, 10) AS DATE) IS NULL
          )
        )
        AND (
          (
            (
              (
                SUBSTRING(`_mpql_str1`, 1, 4) <> '0000'
              )
              AND (
                COALESCE(SAFE_CAST(SUBSTRING(`_mpql_str1`, 12, 2) AS INT64), 0) < 24
              )
            )
            AND (
              COALESCE(SAFE_CAST(SUBSTRING(`_mpql_str1`, 15, 2) AS INT64), 0) < 60
            )
          )
          AND (
            COALESCE(SAFE_CAST(SUBSTRING(`_mpql_str1`, 18, 2) AS INT64), 0) < 60
          )
        )
        THEN (
          CAST(UNIX_DATE(SAFE_CAST(SUBSTRING(`_mpql_str1`, 1, 10) AS DATE)) AS FLOAT64) * 86400
        ) + (
          (
            COALESCE(SAFE_CAST(SUBSTRING(`_mpql_str1`, 12, 2) AS INT64), 0) * 3600
          ) + (
            (
              COALESCE(SAFE_CAST(SUBSTRING(`_mpql_str1`, 15, 2) AS INT64), 0) * 60
            ) + COALESCE(SAFE_CAST(SUBSTRING(`_mpql_str1`, 18, 2) AS INT64), 0)
          )
        )
      END
    END AS `_mpql_dt1`,
    CASE
      WHEN REGEXP_CONTAINS(
        `_mpql_str2`,
        '^(?:[0-9]{4}-[0-9]{2}-[0-9]{2}(?:T[0-9]{2}:[0-9]{2}:[0-9]{2}(?:\\.[0-9]{1,9})?Z?)?)$'
      )
      THEN CASE
        WHEN (
          NOT (
            SAFE_CAST(SUBSTRING(`_mpql_str2`, 1, 10) AS DATE) IS NULL
          )
        )
        AND (
          (
            (
              (
                SUBSTRING(`_mpql_str2`, 1, 4) <> '0000'
              )
              AND (
                COALESCE(SAFE_CAST(SUBSTRING(`_mpql_str2`, 12, 2) AS INT64), 0) < 24
              )
            )
            AND (
              COALESCE(SAFE_CAST(SUBSTRING(`_mpql_str2`, 15, 2) AS INT64), 0) < 60
            )
          )
          AND (
            COALESCE(SAFE_CAST(SUBSTRING(`_mpql_str2`, 18, 2) AS INT64), 0) < 60
          )
        )
        THEN (
          CAST(UNIX_DATE(SAFE_CAST(SUBSTRING(`_mpql_str2`, 1, 10) AS DATE)) AS FLOAT64) * 86400
        ) + (
          (
            COALESCE(SAFE_CAST(SUBSTRING(`_mpql_str2`, 12, 2) AS INT64), 0) * 3600
          ) + (
            (
              COALESCE(SAFE_CAST(SUBSTRING(`_mpql_str2`, 15, 2) AS INT64), 0) * 60
            ) + COALESCE(SAFE_CAST(SUBSTRING(`_mpql_str2`, 18, 2) AS INT64), 0)
          )
        )
      END
    END AS `_mpql_dt2`
  FROM (
    SELECT
      *,
      CASE WHEN JSON_TYPE(`_mpql_j0`) = 'number' THEN LAX_FLOAT64(`_mpql_j0`) END AS `_mpql_num0`,
      CASE WHEN JSON_TYPE(`_mpql_j0`) = 'string' THEN STRING(`_mpql_j0`) END AS `_mpql_str0`,
      CASE WHEN JSON_TYPE(`_mpql_j0`) = 'boolean' THEN BOOL(`_mpql_j0`) END AS `_mpql_bool0`,
      CASE WHEN JSON_TYPE(`_mpql_j0`) = 'null' THEN TRUE END AS `_mpql_null0`,
      CASE WHEN JSON_TYPE(`_mpql_j0`) = 'array' THEN `_mpql_j0` END AS `_mpql_lst0`,
      CASE WHEN JSON_TYPE(`_mpql_j0`) = 'object' THEN `_mpql_j0` END AS `_mpql_obj0`,
      CASE WHEN JSON_TYPE(`_mpql_j1`) = 'number' THEN LAX_FLOAT64(`_mpql_j1`) END AS `_mpql_num1`,
      CASE WHEN JSON_TYPE(`_mpql_j1`) = 'string' THEN STRING(`_mpql_j1`) END AS `_mpql_str1`,
      CASE WHEN JSON_TYPE(`_mpql_j1`) = 'boolean' THEN BOOL(`_mpql_j1`) END AS `_mpql_bool1`,
      CASE WHEN JSON_TYPE(`_mpql_j1`) = 'null' THEN TRUE END AS `_mpql_null1`,
      CASE WHEN JSON_TYPE(`_mpql_j1`) = 'array' THEN `_mpql_j1` END AS `_mpql_lst1`,
      CASE WHEN JSON_TYPE(`_mpql_j1`) = 'object' THEN `_mpql_j1` END AS `_mpql_obj1`,
      CASE WHEN JSON_TYPE(`_mpql_j2`) = 'number' THEN LAX_FLOAT64(`_mpql_j2`) END AS `_mpql_num2`,
      CASE WHEN JSON_TYPE(`_mpql_j2`) = 'string' THEN STRING(`_mpql_j2`) END AS `_mpql_str2`,
      CASE WHEN JSON_TYPE(`_mpql_j2`) = 'boolean' THEN BOOL(`_mpql_j2`) END AS `_mpql_bool2`,
      CASE WHEN JSON_TYPE(`_mpql_j2`) = 'null' THEN TRUE END AS `_mpql_null2`,
      CASE WHEN JSON_TYPE(`_mpql_j2`) = 'array' THEN `_mpql_j2` END AS `_mpql_lst2`,
      CASE WHEN JSON_TYPE(`_mpql_j2`) = 'object' THEN `_mpql_j2` END AS `_mpql_obj2`
    FROM (
      SELECT
        *,
        `properties`['plan'] AS `_mpql_j0`,
        `properties`['$time'] AS `_mpql_j1`,
        `properties`['n'] AS `_mpql_j2`
      FROM `mp_master_event`
    ) AS _mpql_l0
  ) AS _mpql_l1
) AS _mpql_l2
WHERE
  (
    (
      (
        COALESCE(`_mpql_num0` > CAST(1 AS FLOAT64), FALSE)
        AND (
          `event_name` IN ('Signup')
        )
      )
      AND (
        CASE
          WHEN `_mpql_j1` IS NULL
          THEN CAST(FLOOR(TIME_TO_UNIX(`time`)) AS FLOAT64)
          ELSE `_mpql_dt1`
        END >= 1704067200
      )
    )
    AND (
      CASE
        WHEN `_mpql_j1` IS NULL
        THEN CAST(FLOOR(TIME_TO_UNIX(`time`)) AS FLOAT64)
        ELSE `_mpql_dt1`
      END < 1706745600
    )
  )
  AND (
    NOT (
      CASE
        WHEN (
          CASE
            WHEN ABS(`_mpql_num2` + CAST(1 AS FLOAT64)) <= 1.7976931348623157e308
            THEN `_mpql_num2` + CAST(1 AS FLOAT64)
          END = FLOOR(
            CASE
              WHEN ABS(`_mpql_num2` + CAST(1 AS FLOAT64)) <= 1.7976931348623157e308
              THEN `_mpql_num2` + CAST(1 AS FLOAT64)
            END
          )
        )
        AND (
          ABS(
            CASE
              WHEN ABS(`_mpql_num2` + CAST(1 AS FLOAT64)) <= 1.7976931348623157e308
              THEN `_mpql_num2` + CAST(1 AS FLOAT64)
            END
          ) < 1e16
        )
        THEN CAST(CAST(CASE
          WHEN ABS(`_mpql_num2` + CAST(1 AS FLOAT64)) <= 1.7976931348623157e308
          THEN `_mpql_num2` + CAST(1 AS FLOAT64)
        END AS INT64) AS STRING)
        ELSE CAST(CASE
          WHEN ABS(`_mpql_num2` + CAST(1 AS FLOAT64)) <= 1.7976931348623157e308
          THEN `_mpql_num2` + CAST(1 AS FLOAT64)
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
