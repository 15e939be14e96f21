-- One row per sync run: the plan's counts and the probe's cost, renamed.

with

source as (

    select * from {{ source('github', 'sync_plans') }}

),

renamed as (

    select
        run_id,
        repos_total,
        repos_extracted,
        repos_skipped,
        probe_points,
        probe_requests,
        loaded_at
    from source

)

select * from renamed
