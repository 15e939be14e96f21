-- Grain: one row per repository and ISO week (week_start, a Monday, UTC) in which it had
-- a production deploy or a PR deployed. The four keys, with their DORA performance bands
-- by the thresholds of the 2023 Accelerate State of DevOps report (dbt/README.md):
--   deployments                  successful production deploys created that week
--   lead_time_median_hours       median lead_time_hours of PRs deployed that week
--   change_failure_rate          (failed + rolled back) / finished production deploys
--   time_to_restore_median_hours median hours from a failed production deploy's end to
--                                the end of the next successful one

with

deploys as (

    select
        *,
        {{ week_start('created_at') }}                             as week_start
    from {{ ref('fct_deployments') }}
    where is_production

),

deployed_prs as (

    select
        repo,
        {{ week_start('deployed_at') }}                            as week_start,
        lead_time_hours
    from {{ ref('fct_pull_request_cycle_time') }}
    where deployed_at is not null

),

deploy_weeks as (

    select
        repo,
        week_start,
        count(*) filter (where outcome = 'SUCCESS')                as deployments,
        count(*) filter (where finished_at is not null)            as production_deployments,
        count(*) filter (where outcome in ('FAILURE', 'ERROR'))    as failed_deployments,
        count(*) filter (where is_rolled_back)                     as rolled_back_deployments,
        median({{ hours_between('finished_at', 'restored_at') }}) filter (
            where outcome in ('FAILURE', 'ERROR') and restored_at is not null)
                                                                   as time_to_restore_median_hours
    from deploys
    group by 1, 2

),

lead_weeks as (

    select
        repo,
        week_start,
        count(*)                                                   as deployed_pull_requests,
        median(lead_time_hours)                                    as lead_time_median_hours
    from deployed_prs
    group by 1, 2

),

weeks as (

    select repo, week_start from deploy_weeks
    union
    select repo, week_start from lead_weeks

),

joined as (

    select
        weeks.repo,
        weeks.week_start,
        coalesce(deploy_weeks.deployments, 0)                      as deployments,
        coalesce(deploy_weeks.production_deployments, 0)           as production_deployments,
        coalesce(deploy_weeks.failed_deployments, 0)               as failed_deployments,
        coalesce(deploy_weeks.rolled_back_deployments, 0)          as rolled_back_deployments,
        coalesce(lead_weeks.deployed_pull_requests, 0)             as deployed_pull_requests,
        lead_weeks.lead_time_median_hours,
        deploy_weeks.time_to_restore_median_hours,
        -- successful production deploys in this week and the three before it
        (
            select count(*)
            from deploys as recent
            where recent.repo = weeks.repo
              and recent.outcome = 'SUCCESS'
              and recent.week_start > weeks.week_start - interval 28 day
              and recent.week_start <= weeks.week_start
        )                                                          as deployments_last_4_weeks
    from weeks
    left join deploy_weeks
        on weeks.repo = deploy_weeks.repo and weeks.week_start = deploy_weeks.week_start
    left join lead_weeks
        on weeks.repo = lead_weeks.repo and weeks.week_start = lead_weeks.week_start

),

final as (

    select
        repo,
        week_start,
        deployments,
        production_deployments,
        failed_deployments,
        rolled_back_deployments,
        case when production_deployments > 0
             then (failed_deployments + rolled_back_deployments) * 1.0 / production_deployments
        end                                                        as change_failure_rate,
        deployed_pull_requests,
        lead_time_median_hours,
        time_to_restore_median_hours,
        case
            when deployments >= 7 then 'elite'
            when deployments >= 1 then 'high'
            when deployments_last_4_weeks >= 1 then 'medium'
            else 'low'
        end                                                        as deployment_frequency_band,
        case
            when lead_time_median_hours is null then null
            when lead_time_median_hours < 24 then 'elite'
            when lead_time_median_hours < 24 * 7 then 'high'
            when lead_time_median_hours < 24 * 30 then 'medium'
            else 'low'
        end                                                        as lead_time_band,
        case
            when production_deployments = 0 then null
            when (failed_deployments + rolled_back_deployments) * 1.0 / production_deployments <= 0.05 then 'elite'
            when (failed_deployments + rolled_back_deployments) * 1.0 / production_deployments <= 0.10 then 'high'
            when (failed_deployments + rolled_back_deployments) * 1.0 / production_deployments <= 0.15 then 'medium'
            else 'low'
        end                                                        as change_failure_rate_band,
        case
            when time_to_restore_median_hours is null then null
            when time_to_restore_median_hours < 1 then 'elite'
            when time_to_restore_median_hours < 24 then 'high'
            when time_to_restore_median_hours < 24 * 7 then 'medium'
            else 'low'
        end                                                        as time_to_restore_band,
        2023                                                       as dora_report_year
    from joined

)

select * from final
