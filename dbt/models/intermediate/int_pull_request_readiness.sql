-- Grain: one row per pull request in staging. When it became ready for review and when
-- its draft clock stops, from its ready-for-review / convert-to-draft events:
--   created as a draft = the earliest of those events is a ReadyForReviewEvent, or there
--                        are none and the PR is a draft now
--   ready_for_review_at = opened_at when not created as a draft, else the first
--                         ReadyForReviewEvent (null while it never left draft)
--   draft_clock_stops_at = merged_at, else closed_at; null while open (the cycle-time
--                          fact stops it at its as_of, so nothing here depends on as_of)
--
-- Incremental per PR (dbt_project.yml, macros/incremental.sql): only PRs loaded since
-- the last build.
{%- set loaded_since = loaded_since_last_build() %}

with

pull_requests as (

    select * from {{ ref('stg_github__pull_requests') }}
    where {{ loaded_since }}

),

events as (

    select * from {{ ref('stg_github__pull_request_timeline_events') }}
    where {{ loaded_since }}

),

per_pull_request as (

    select
        pull_request_id,
        first(event_type order by created_at, timeline_position) filter (
            where event_type in ('ReadyForReviewEvent', 'ConvertToDraftEvent')
        )                                                          as first_draft_event_type,
        min(created_at) filter (where event_type = 'ReadyForReviewEvent')
                                                                   as first_ready_event_at,
        min(created_at) filter (where event_type = 'ReviewRequestedEvent')
                                                                   as first_review_requested_at
    from events
    group by 1

),

created as (

    select
        pull_requests.pull_request_id,
        pull_requests.created_at,
        coalesce(per_pull_request.first_draft_event_type = 'ReadyForReviewEvent',
                 pull_requests.is_draft)                          as created_as_draft,
        per_pull_request.first_ready_event_at,
        per_pull_request.first_review_requested_at,
        -- time in draft counts until the PR is closed or merged (while open: until as_of)
        case when pull_requests.state <> 'OPEN'
             then coalesce(pull_requests.merged_at, pull_requests.closed_at)
        end                                                        as draft_clock_stops_at,
        pull_requests.loaded_at
    from pull_requests
    left join per_pull_request
        on pull_requests.pull_request_id = per_pull_request.pull_request_id

),

final as (

    select
        pull_request_id,
        created_as_draft,
        case when created_as_draft then first_ready_event_at else created_at end
                                                                   as ready_for_review_at,
        first_review_requested_at,
        draft_clock_stops_at,
        loaded_at
    from created

)

select * from final
