-- One row per sync run and repository, as written by the load task, typed; the retries
-- JSON object is kept and also split into a total and the known error classes.

with

source as (

    select * from {{ source('github', 'sync_runs') }}

),

renamed as (

    select
        run_id,
        repo,
        status,
        cast(started_at as timestamptz)                          as started_at,
        cast(finished_at as timestamptz)                         as finished_at,
        pages                                                    as page_count,
        pull_requests                                            as pull_request_count,
        points_spent,
        requests                                                 as request_count,
        retries,
        coalesce(
            list_sum(map_values(try_cast(retries as map(varchar, integer)))), 0
        )                                                        as retries_total,
        -- per class, as the client names them (src/pr_warehouse/client/classify.py)
        coalesce(cast(retries ->> '$.server_error' as integer), 0)   as retries_server_error,
        coalesce(cast(retries ->> '$.request_timeout' as integer), 0) as retries_request_timeout,
        coalesce(cast(retries ->> '$.partial_data' as integer), 0)   as retries_partial_data,
        coalesce(cast(retries ->> '$.secondary_rate_limit' as integer), 0) as retries_secondary_rate_limit,
        coalesce(cast(retries ->> '$.primary_rate_limit' as integer), 0) as retries_primary_rate_limit,
        page_size_final,
        error,
        loaded_at
    from source

)

select * from renamed
