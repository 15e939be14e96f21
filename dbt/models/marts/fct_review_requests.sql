-- Grain: one row per review-request spell: a reviewer (a user or a team) asked to review a
-- pull request, from the ReviewRequestedEvent that started it to its end. Keyed by that
-- event's id (`review_request_id`).
--
-- A table rebuilt on each run, not a per-PR incremental model: a team request's answer
-- depends on who was in the team (dim_team_memberships), which changes without any PR
-- changing.
--
-- A spell ends at the earliest of: the matching ReviewRequestRemovedEvent, the reviewer's
-- first response, the PR's close or merge (all at or after the request). A request made
-- while the same reviewer's spell is still running starts nothing (GitHub shows one
-- pending request); a request after a spell ended (a re-request once changes were made)
-- starts a new one. Ties at one instant: a response wins over a removal over a close, and
-- a review over a comment.
--
-- A response is a review in any state but PENDING, a conversation comment, or a
-- review-thread comment, at or after the request, by the requested user; for a team, by
-- anyone but the PR's author who was in the team at that moment (dim_team_memberships'
-- span holding it; before the responder's first recorded membership, the memberships of
-- that first record, as bridge_pull_request_teams does for authors).

with

events as (

    select * from {{ ref('stg_github__pull_request_timeline_events') }}
    where event_type in ('ReviewRequestedEvent', 'ReviewRequestRemovedEvent',
                         'ClosedEvent', 'MergedEvent')

),

pull_requests as (

    select pull_request_id, repo, pr_number, author_login, state, closed_at, merged_at
    from {{ ref('stg_github__pull_requests') }}

),

reviews as (

    select * from {{ ref('stg_github__pull_request_reviews') }}
    where review_state <> 'PENDING' and submitted_at is not null

),

comments as (

    select * from {{ ref('stg_github__pull_request_comments') }}

),

-- the thread comments of submitted reviews, at the time each was written (a pending
-- review's comments carry their own createdAt, before the review's submittedAt)
thread_comments as (

    select * from {{ ref('stg_github__pull_request_review_comments') }}

),

memberships as (

    select
        lower(team)                                             as team_key,
        lower(login)                                            as login_key,
        valid_from,
        valid_to,
        min(valid_from) over (partition by lower(login))        as first_recorded_at
    from {{ ref('dim_team_memberships') }}

),

draft_intervals as (

    select * from {{ ref('int_pull_request_draft_intervals') }}

),

-- who was asked: a team by its key `org/slug` (the repository's owner is the team's
-- organization), anyone else by login; a deleted account has neither (kind and name null)
requests as (

    select
        events.event_id                                         as review_request_id,
        events.pull_request_id,
        events.repo,
        events.pr_number,
        events.created_at                                       as requested_at,
        events.timeline_position,
        events.requested_reviewer_kind = 'Team'                 as is_team,
        case when events.requested_reviewer_kind = 'Team'
             then events.requested_reviewer_name end           as team_slug,
        case when events.requested_reviewer_kind = 'Team'
             then lower(split_part(events.repo, '/', 1) || '/'
                        || events.requested_reviewer_name) end as team_key,
        case when events.requested_reviewer_kind is distinct from 'Team'
             then {{ actor_login('events.requested_reviewer_name') }} end
                                                                as reviewer_login,
        coalesce(events.requested_reviewer_kind, '') || ':'
            || lower(coalesce(events.requested_reviewer_name, ''))
                                                                as reviewer_key,
        {{ is_bot('events.requested_reviewer_name', 'events.requested_reviewer_kind') }}
                                                                as is_bot_reviewer,
        {{ actor_login('events.actor_login') }}                 as requested_by_login
    from events
    where events.event_type = 'ReviewRequestedEvent'

),

removals as (

    select
        pull_request_id,
        created_at                                              as removed_at,
        coalesce(requested_reviewer_kind, '') || ':'
            || lower(coalesce(requested_reviewer_name, ''))     as reviewer_key
    from events
    where event_type = 'ReviewRequestRemovedEvent'

),

-- the PR's close or merge: its ClosedEvent / MergedEvent, and its closedAt for a PR that
-- is not open (a close GitHub recorded before it kept timeline events)
closes as (

    select pull_request_id, created_at as closed_at
    from events
    where event_type in ('ClosedEvent', 'MergedEvent')

    union all

    select pull_request_id, coalesce(merged_at, closed_at)
    from pull_requests
    where state <> 'OPEN' and coalesce(merged_at, closed_at) is not null

),

-- every response candidate, whoever wrote it; kind_rank puts reviews first at one instant
responses as (

    select pull_request_id, submitted_at as responded_at, reviewer_login as responder,
           review_state as response_kind, 0 as kind_rank
    from reviews

    union all

    select pull_request_id, created_at, author_login, 'comment', 1
    from comments

    union all

    select pull_request_id, created_at, author_login, 'comment', 1
    from thread_comments

),

-- the first response of each request's reviewer at or after it
first_responses as (

    select
        requests.review_request_id,
        arg_min(responses.responded_at,
                (responses.responded_at, responses.kind_rank))  as responded_at,
        arg_min(responses.responder,
                (responses.responded_at, responses.kind_rank, responses.responder))
                                                                as responder_login,
        arg_min(responses.response_kind,
                (responses.responded_at, responses.kind_rank, responses.responder))
                                                                as response_kind
    from requests
    inner join pull_requests
        on requests.pull_request_id = pull_requests.pull_request_id
    inner join responses
        on responses.pull_request_id = requests.pull_request_id
       and responses.responded_at >= requests.requested_at
       and responses.responder is not null
    where (
            not requests.is_team
            and requests.reviewer_login <> 'ghost'
            and lower(responses.responder) = lower(requests.reviewer_login)
          )
       or (
            requests.is_team
            and lower(responses.responder)
                is distinct from lower(pull_requests.author_login)
            and exists (
                select 1
                from memberships
                where memberships.team_key = requests.team_key
                  and memberships.login_key = lower(responses.responder)
                  and case
                          when responses.responded_at < memberships.first_recorded_at
                              then memberships.valid_from = memberships.first_recorded_at
                          else memberships.valid_from <= responses.responded_at
                               and (memberships.valid_to is null
                                    or responses.responded_at < memberships.valid_to)
                      end
            )
          )
    group by requests.review_request_id

),

first_removals as (

    select requests.review_request_id, min(removals.removed_at) as removed_at
    from requests
    inner join removals
        on removals.pull_request_id = requests.pull_request_id
       and removals.reviewer_key = requests.reviewer_key
       and removals.removed_at >= requests.requested_at
    group by requests.review_request_id

),

first_closes as (

    select requests.review_request_id, min(closes.closed_at) as closed_at
    from requests
    inner join closes
        on closes.pull_request_id = requests.pull_request_id
       and closes.closed_at >= requests.requested_at
    group by requests.review_request_id

),

-- each request's would-be end, as if it started a spell
candidates as (

    select
        requests.*,
        first_responses.responded_at,
        first_responses.responder_login,
        first_responses.response_kind,
        first_removals.removed_at,
        first_closes.closed_at,
        -- DuckDB's least skips nulls: null only when nothing ended it yet
        least(first_responses.responded_at, first_removals.removed_at,
              first_closes.closed_at)                           as ended_at
    from requests
    left join first_responses
        on requests.review_request_id = first_responses.review_request_id
    left join first_removals
        on requests.review_request_id = first_removals.review_request_id
    left join first_closes
        on requests.review_request_id = first_closes.review_request_id

),

-- a request inside an earlier request's running spell starts nothing: an earlier request
-- of the same reviewer whose end is later than this one (or that never ended) covers it
spells as (

    select *
    from candidates
    where not exists (
        select 1
        from candidates as earlier
        where earlier.pull_request_id = candidates.pull_request_id
          and earlier.reviewer_key = candidates.reviewer_key
          and (earlier.requested_at < candidates.requested_at
               or (earlier.requested_at = candidates.requested_at
                   and earlier.timeline_position < candidates.timeline_position))
          and (earlier.ended_at is null or earlier.ended_at > candidates.requested_at)
    )

),

-- draft time inside requested -> responded (a running draft spell is clipped there)
draft_inside as (

    select
        spells.review_request_id,
        sum({{ seconds_overlapping(
            'spells.requested_at', 'spells.responded_at',
            'draft_intervals.draft_started_at',
            'coalesce(draft_intervals.draft_ended_at, spells.responded_at)') }})
                                                                as draft_seconds
    from spells
    inner join draft_intervals
        on draft_intervals.pull_request_id = spells.pull_request_id
    where spells.responded_at is not null and spells.responded_at = spells.ended_at
    group by spells.review_request_id

),

final as (

    select
        spells.review_request_id,
        spells.pull_request_id,
        spells.repo,
        spells.pr_number,
        spells.reviewer_login,
        spells.is_bot_reviewer,
        spells.team_slug,
        -- the team's key in dim_team_memberships and the team marts (`org/slug`)
        case when spells.is_team
             then split_part(spells.repo, '/', 1) || '/' || spells.team_slug end
                                                                as team,
        spells.requested_at,
        spells.requested_by_login,
        spells.ended_at,
        case when spells.responded_at = spells.ended_at
             then spells.responded_at end                       as responded_at,
        case when spells.responded_at = spells.ended_at
             then spells.responder_login end                    as responder_login,
        case when spells.responded_at = spells.ended_at
             then spells.response_kind end                      as response_kind,
        case when spells.responded_at = spells.ended_at
             then {{ hours_between('spells.requested_at', 'spells.responded_at') }}
                  - coalesce(draft_inside.draft_seconds, 0) / 3600.0
        end                                                     as response_hours,
        case
            when spells.ended_at is null then 'waiting'
            when spells.responded_at = spells.ended_at then 'responded'
            when spells.removed_at = spells.ended_at then 'removed'
            else 'closed_unanswered'
        end                                                     as outcome
    from spells
    left join draft_inside
        on spells.review_request_id = draft_inside.review_request_id

)

select * from final
