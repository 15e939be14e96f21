-- Grain: one row per sync run and repository (run_id + repo).

with

sync_runs as (

    select * from {{ ref('stg_github__sync_runs') }}

),

final as (

    select
        run_id,
        repo,
        status,
        started_at,
        finished_at,
        date_diff('millisecond', started_at, finished_at) / 1000.0  as duration_seconds,
        page_count,
        pull_request_count,
        points_spent,
        request_count,
        retries_total,
        retries_server_error,
        retries_request_timeout,
        retries_partial_data,
        retries_secondary_rate_limit,
        retries_primary_rate_limit,
        retries                                                     as retries_by_class,
        page_size_final,
        error,
        loaded_at
    from sync_runs

)

select * from final
