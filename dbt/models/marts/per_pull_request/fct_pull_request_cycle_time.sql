-- Grain: one row per pull request (GitHub node id), every PR in staging, none dropped.
-- The phases of its cycle time, with the raw timestamps they are measured between:
--   coding  = first commit authored       -> ready for review (0 when the commit is later)
--   pickup  = ready for review            -> first response,   minus time in draft inside
--   review  = first response              -> merge,            minus time in draft inside
--   cycle   = first commit (else opening) -> merge
-- Definitions of ready, draft time, response and approval: the intermediate models and
-- fct_pull_request_cycle_time.yml.
-- Review depth and rework: the reviews among the responses (review_count), the
-- review-thread comments by the same people (review_comment_count), the rounds of
-- changes requested that the author answered with commits (review_rounds), and the
-- commits and force pushes after the first response (int_pull_request_rework).
--
-- Incremental (dbt/macros/incremental.sql): a run rebuilds the PRs loaded since the last
-- build, every merged PR not yet deployed (macros/deployments.sql) and every open PR, whose draft time grows with as_of. Its inputs are all tables
-- (fct_pull_requests and the per-PR intermediates, themselves incremental), so rebuilding
-- the open PRs costs joins, not another pass over their raw JSON.
{%- set loaded_since = loaded_since_last_build() %}

with

pull_requests as (

    select * from {{ ref('fct_pull_requests') }}
    where {{ loaded_since }} or state = 'OPEN' or {{ awaiting_deployment() }}

),

activity as (

    select * from {{ ref('int_pull_request_activity') }}

),

readiness as (

    select * from {{ ref('int_pull_request_readiness') }}

),

as_of as (

    select {{ as_of() }} as as_of

),

-- The draft clock of an open PR (no stop in readiness) stops at as_of: spells that start
-- later are dropped, a running spell (no end yet) or a later one ends at as_of.
drafts as (

    select
        drafts.pull_request_id,
        drafts.draft_started_at,
        case when readiness.draft_clock_stops_at is null
             then least(coalesce(drafts.draft_ended_at, as_of.as_of), as_of.as_of)
             else drafts.draft_ended_at
        end                                                        as draft_ended_at
    from {{ ref('int_pull_request_draft_intervals') }} as drafts
    inner join readiness
        on drafts.pull_request_id = readiness.pull_request_id
    cross join as_of
    where readiness.draft_clock_stops_at is not null
       or drafts.draft_started_at < as_of.as_of

),

responses as (

    select * from {{ ref('int_pull_request_responses') }}

),

response_stats as (

    select
        responses.pull_request_id,
        -- responses to a draft that never became ready are not a pickup
        min(responses.responded_at) filter (
            where responses.responded_at >= readiness.ready_for_review_at
        )                                                          as first_response_at,
        min(responses.responded_at) filter (
            where responses.response_type = 'review' and responses.review_state = 'APPROVED'
        )                                                          as first_approval_at,
        count(*) filter (
            where responses.response_type = 'review'
              and responses.responded_at < pull_requests.merged_at
        )                                                          as reviews_before_merge,
        -- a response is already before the close or merge, by neither author nor bot
        count(*) filter (where responses.response_type = 'review')  as review_count
    from responses
    inner join readiness
        on responses.pull_request_id = readiness.pull_request_id
    inner join pull_requests
        on responses.pull_request_id = pull_requests.pull_request_id
    group by 1

),

phases as (

    select
        pull_requests.pull_request_id,
        readiness.ready_for_review_at,
        response_stats.first_response_at,
        pull_requests.merged_at
    from pull_requests
    inner join readiness
        on pull_requests.pull_request_id = readiness.pull_request_id
    left join response_stats
        on pull_requests.pull_request_id = response_stats.pull_request_id

),

rework as (

    select * from {{ ref('int_pull_request_rework') }}

),

-- Review-thread comments by the people review_count counts (int_pull_request_review_comments).
review_comment_stats as (

    select
        review_comments.pull_request_id,
        count(*)                                                   as review_comment_count
    from {{ ref('int_pull_request_review_comments') }} as review_comments
    inner join pull_requests
        on review_comments.pull_request_id = pull_requests.pull_request_id
    group by 1

),

-- The reviews among the responses of the PRs being built.
counted_reviews as (

    select
        responses.pull_request_id,
        responses.review_state,
        responses.responded_at
    from responses
    inner join pull_requests
        on responses.pull_request_id = pull_requests.pull_request_id
    where responses.response_type = 'review'

),

-- Each with the time of the next review strictly later (reviews of one instant share it).
sequenced_reviews as (

    select
        counted_reviews.*,
        (
            select min(later.responded_at)
            from counted_reviews as later
            where later.pull_request_id = counted_reviews.pull_request_id
              and later.responded_at > counted_reviews.responded_at
        )                                                          as next_review_at
    from counted_reviews

),

-- Changes requested that the author answered: a commit after the review and before the
-- next review (any time after it when none followed).
answered_change_requests as (

    select
        sequenced_reviews.pull_request_id,
        count(*)                                                   as answered_count
    from sequenced_reviews
    where sequenced_reviews.review_state = 'CHANGES_REQUESTED'
      and exists (
          select 1
          from rework
          where rework.pull_request_id = sequenced_reviews.pull_request_id
            and rework.rework_type = 'commit'
            and rework.occurred_at > sequenced_reviews.responded_at
            and (sequenced_reviews.next_review_at is null
                 or rework.occurred_at < sequenced_reviews.next_review_at)
      )
    group by 1

),

rework_stats as (

    select
        phases.pull_request_id,
        count(*) filter (
            where rework.rework_type = 'commit'
              and rework.occurred_at > phases.first_response_at
        )                                                          as commits_after_first_response,
        count(*) filter (
            where rework.rework_type = 'force_push'
              and rework.occurred_at > phases.first_response_at
        )                                                          as force_pushes_after_first_response
    from rework
    inner join phases
        on rework.pull_request_id = phases.pull_request_id
    group by 1

),

draft_stats as (

    select
        drafts.pull_request_id,
        sum(date_diff('second', drafts.draft_started_at, drafts.draft_ended_at))
                                                                   as draft_seconds,
        sum({{ seconds_overlapping('drafts.draft_started_at', 'drafts.draft_ended_at',
                                   'phases.ready_for_review_at', 'phases.first_response_at') }})
                                                                   as draft_seconds_in_pickup,
        sum({{ seconds_overlapping('drafts.draft_started_at', 'drafts.draft_ended_at',
                                   'phases.first_response_at', 'phases.merged_at') }})
                                                                   as draft_seconds_in_review
    from drafts
    inner join phases
        on drafts.pull_request_id = phases.pull_request_id
    group by 1

),

joined as (

    select
        pull_requests.pull_request_id,
        pull_requests.repo,
        pull_requests.pr_number,
        pull_requests.author_login,
        {{ is_bot('pull_requests.author_login', 'pull_requests.author_kind') }}
                                                                   as is_bot_author,
        activity.first_commit_at,
        pull_requests.created_at                                   as opened_at,
        readiness.ready_for_review_at,
        coalesce(draft_stats.draft_seconds, 0) / 3600.0            as draft_hours,
        readiness.first_review_requested_at,
        response_stats.first_response_at,
        response_stats.first_approval_at,
        pull_requests.merged_at,
        coalesce(draft_stats.draft_seconds_in_pickup, 0)           as draft_seconds_in_pickup,
        coalesce(draft_stats.draft_seconds_in_review, 0)           as draft_seconds_in_review,
        coalesce(response_stats.reviews_before_merge, 0)           as reviews_before_merge,
        pull_requests.additions + pull_requests.deletions          as changed_lines,
        activity.commit_count,
        activity.comment_count,
        activity.review_thread_count,
        coalesce(response_stats.review_count, 0)                   as review_count,
        coalesce(review_comment_stats.review_comment_count, 0)     as review_comment_count,
        case when response_stats.first_response_at is null then 0
             else 1 + coalesce(answered_change_requests.answered_count, 0)
        end                                                        as review_rounds,
        -- like commit_count: null when the PR's events were never fetched
        case when activity.pull_request_id is not null
             then coalesce(rework_stats.commits_after_first_response, 0)
        end                                                        as commits_after_first_response,
        case when activity.pull_request_id is not null
             then coalesce(rework_stats.force_pushes_after_first_response, 0)
        end                                                        as force_pushes_after_first_response,
        -- only an open PR's figures depend on as_of; a closed one's never change again
        case when pull_requests.state = 'OPEN' then as_of.as_of end
                                                                   as as_of,
        pull_requests.loaded_at,
        checks.checks_state,
        checks.checks_failed,
        checks.checks_passed_at,
        deployments.deployed_at
    from pull_requests
    cross join as_of
    inner join readiness
        on pull_requests.pull_request_id = readiness.pull_request_id
    left join activity
        on pull_requests.pull_request_id = activity.pull_request_id
    left join response_stats
        on pull_requests.pull_request_id = response_stats.pull_request_id
    left join draft_stats
        on pull_requests.pull_request_id = draft_stats.pull_request_id
    left join answered_change_requests
        on pull_requests.pull_request_id = answered_change_requests.pull_request_id
    left join rework_stats
        on pull_requests.pull_request_id = rework_stats.pull_request_id
    left join review_comment_stats
        on pull_requests.pull_request_id = review_comment_stats.pull_request_id
    left join {{ ref('int_pull_request_checks') }} as checks
        on pull_requests.pull_request_id = checks.pull_request_id
    left join {{ ref('int_pull_request_deployments') }} as deployments
        on pull_requests.pull_request_id = deployments.pull_request_id

),

final as (

    select
        pull_request_id,
        repo,
        pr_number,
        author_login,
        is_bot_author,
        first_commit_at,
        opened_at,
        ready_for_review_at,
        draft_hours,
        first_review_requested_at,
        first_response_at,
        first_approval_at,
        merged_at,
        -- DuckDB's greatest skips nulls: without both ends there is no coding time
        case when first_commit_at is not null and ready_for_review_at is not null
             then greatest({{ hours_between('first_commit_at', 'ready_for_review_at') }}, 0)
        end                                                        as coding_hours,
        {{ hours_between('ready_for_review_at', 'first_response_at') }}
            - draft_seconds_in_pickup / 3600.0                     as pickup_hours,
        {{ hours_between('first_response_at', 'merged_at') }}
            - draft_seconds_in_review / 3600.0                     as review_hours,
        {{ hours_between('coalesce(first_commit_at, opened_at)', 'merged_at') }}
                                                                   as cycle_hours,
        merged_at is not null and reviews_before_merge = 0         as merged_without_review,
        case
            when changed_lines <= 10 then 'XS'
            when changed_lines <= 100 then 'S'
            when changed_lines <= 500 then 'M'
            when changed_lines <= 1000 then 'L'
            else 'XL'
        end                                                        as size_bucket,
        commit_count,
        comment_count,
        review_thread_count,
        review_count,
        review_comment_count,
        review_rounds,
        commits_after_first_response,
        force_pushes_after_first_response,
        as_of,
        loaded_at,
        -- CI checks (int_pull_request_checks): null when the PR's checks were never fetched
        checks_state,
        checks_failed,
        checks_passed_at,
        case when checks_passed_at is not null and ready_for_review_at is not null
             then greatest({{ hours_between('ready_for_review_at', 'checks_passed_at') }}, 0)
        end                                                        as time_to_green_hours,
        -- deployments (int_pull_request_deployments): the first successful production
        -- deploy containing the merge commit, and the hours to it
        deployed_at,
        {{ hours_between('merged_at', 'deployed_at') }}            as deploy_hours,
        {{ hours_between('coalesce(first_commit_at, opened_at)', 'deployed_at') }}
                                                                   as lead_time_hours
    from joined

)

select * from final
