-- Grain: one row per sync run. What a run cost in all: the probe, every extract and the
-- reads of the organizations' teams.

with

plans as (

    select * from {{ ref('stg_github__sync_plans') }}

),

runs as (

    select * from {{ ref('stg_github__sync_runs') }}

),

team_reads as (

    select
        run_id,
        sum(points_spent)                           as teams_points,
        sum(requests)                               as teams_requests
    from {{ ref('stg_github__team_syncs') }}
    group by 1

),

per_run as (

    select
        run_id,
        count(*) filter (where status = 'success')  as repos_succeeded,
        count(*) filter (where status in ('failed', 'missing')) as repos_failed,
        sum(points_spent)                           as extract_points,
        sum(request_count)                          as extract_requests,
        sum(retries_total)                          as retries_total,
        sum(pull_request_count)                     as pull_requests_fetched
    from runs
    group by 1

),

final as (

    select
        plans.run_id,
        plans.repos_total,
        plans.repos_extracted,
        plans.repos_skipped,
        coalesce(per_run.repos_succeeded, 0)                    as repos_succeeded,
        coalesce(per_run.repos_failed, 0)                       as repos_failed,
        plans.probe_points,
        coalesce(per_run.extract_points, 0)                     as extract_points,
        coalesce(team_reads.teams_points, 0)                    as teams_points,
        plans.probe_points + coalesce(per_run.extract_points, 0)
            + coalesce(team_reads.teams_points, 0)              as total_points,
        plans.probe_requests + coalesce(per_run.extract_requests, 0)
            + coalesce(team_reads.teams_requests, 0)            as total_requests,
        coalesce(per_run.retries_total, 0)                      as retries_total,
        coalesce(per_run.pull_requests_fetched, 0)              as pull_requests_fetched,
        plans.loaded_at
    from plans
    left join per_run using (run_id)
    left join team_reads using (run_id)

)

select * from final
