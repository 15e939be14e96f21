-- Grain: one row per team x ISO week (Monday, UTC), for weeks in which the team's members
-- merged a PR, the team or one of its members was asked for a review, or a member gave a
-- review. Three cohorts, each in the week of its own moment:
--   * PRs merged: merged that week, attributed to the team by bridge_pull_request_teams
--     (the author's teams when the PR was opened; bots' PRs count for no team);
--   * review requests received: fct_review_requests spells started that week, asked of the
--     team itself or of a user who was in the team when asked;
--   * reviews given: fct_pull_request_reviews' reviews given (bots' left out) submitted
--     that week by a member of the team then.
-- "In the team at a moment" is dim_team_memberships' span holding it, or before the
-- person's first recorded membership the spans of that first record (the same rule as
-- bridge_pull_request_teams and fct_review_requests).

with

cycle_times as (

    select * from {{ ref('fct_pull_request_cycle_time') }}

),

pull_request_teams as (

    select pull_request_id, team from {{ ref('bridge_pull_request_teams') }}

),

review_requests as (

    select * from {{ ref('fct_review_requests') }}

),

reviews as (

    select * from {{ ref('fct_pull_request_reviews') }}
    where is_review_given and not is_bot_reviewer

),

memberships as (

    select
        team,
        lower(login)                                                as login_key,
        valid_from,
        valid_to,
        min(valid_from) over (partition by lower(login))            as first_recorded_at
    from {{ ref('dim_team_memberships') }}

),

merged as (

    select
        pull_request_teams.team,
        {{ week_start('cycle_times.merged_at') }}                   as week_start,
        cycle_times.cycle_hours,
        cycle_times.pickup_hours,
        cycle_times.review_hours,
        cycle_times.merged_without_review,
        cycle_times.commits_after_first_response,
        cycle_times.first_response_at
    from cycle_times
    inner join pull_request_teams
        on cycle_times.pull_request_id = pull_request_teams.pull_request_id
    where cycle_times.merged_at is not null

),

merged_weekly as (

    select
        team,
        week_start,
        count(*)                                                    as prs_merged,
        quantile_cont(cycle_hours, 0.5)                             as median_cycle_hours,
        quantile_cont(cycle_hours, 0.9)                             as p90_cycle_hours,
        quantile_cont(pickup_hours, 0.5)                            as median_pickup_hours,
        quantile_cont(pickup_hours, 0.9)                            as p90_pickup_hours,
        quantile_cont(review_hours, 0.5)                            as median_review_hours,
        quantile_cont(review_hours, 0.9)                            as p90_review_hours,
        avg(case when merged_without_review then 1.0 else 0.0 end)  as share_merged_without_review,
        -- over the PRs that had a response (0 commits after none is no rework measured)
        quantile_cont(commits_after_first_response, 0.5)
            filter (where first_response_at is not null)            as median_commits_after_first_response
    from merged
    group by 1, 2

),

-- a team's requests: asked of the team, or of a user in the team when asked
team_requests as (

    select team, requested_at, outcome, response_hours
    from review_requests
    where team is not null

    union all

    select
        memberships.team,
        review_requests.requested_at,
        review_requests.outcome,
        review_requests.response_hours
    from review_requests
    inner join memberships
        on memberships.login_key = lower(review_requests.reviewer_login)
       and case
               when review_requests.requested_at < memberships.first_recorded_at
                   then memberships.valid_from = memberships.first_recorded_at
               else memberships.valid_from <= review_requests.requested_at
                    and (memberships.valid_to is null
                         or review_requests.requested_at < memberships.valid_to)
           end
    where review_requests.reviewer_login is not null

),

requests_weekly as (

    select
        team,
        {{ week_start('requested_at') }}                            as week_start,
        count(*)                                                    as review_requests_received,
        count(*) filter (where outcome = 'responded')               as review_requests_answered,
        avg(case when outcome = 'responded' then 1.0 else 0.0 end)  as share_requests_answered,
        quantile_cont(response_hours, 0.5)                          as median_response_hours
    from team_requests
    group by 1, 2

),

reviews_weekly as (

    select
        memberships.team,
        {{ week_start('reviews.submitted_at') }}                    as week_start,
        count(*)                                                    as reviews_given
    from reviews
    inner join memberships
        on memberships.login_key = lower(reviews.reviewer_login)
       and case
               when reviews.submitted_at < memberships.first_recorded_at
                   then memberships.valid_from = memberships.first_recorded_at
               else memberships.valid_from <= reviews.submitted_at
                    and (memberships.valid_to is null
                         or reviews.submitted_at < memberships.valid_to)
           end
    group by 1, 2

),

weeks as (

    select team, week_start from merged_weekly
    union
    select team, week_start from requests_weekly
    union
    select team, week_start from reviews_weekly

),

final as (

    select
        weeks.team,
        weeks.week_start,
        strftime(weeks.week_start, '%G-W%V')                        as iso_week,
        coalesce(merged_weekly.prs_merged, 0)                       as prs_merged,
        merged_weekly.median_cycle_hours,
        merged_weekly.p90_cycle_hours,
        merged_weekly.median_pickup_hours,
        merged_weekly.p90_pickup_hours,
        merged_weekly.median_review_hours,
        merged_weekly.p90_review_hours,
        merged_weekly.share_merged_without_review,
        merged_weekly.median_commits_after_first_response,
        coalesce(requests_weekly.review_requests_received, 0)       as review_requests_received,
        coalesce(requests_weekly.review_requests_answered, 0)       as review_requests_answered,
        requests_weekly.share_requests_answered,
        requests_weekly.median_response_hours,
        coalesce(reviews_weekly.reviews_given, 0)                   as reviews_given
    from weeks
    left join merged_weekly
        on weeks.team = merged_weekly.team and weeks.week_start = merged_weekly.week_start
    left join requests_weekly
        on weeks.team = requests_weekly.team and weeks.week_start = requests_weekly.week_start
    left join reviews_weekly
        on weeks.team = reviews_weekly.team and weeks.week_start = reviews_weekly.week_start

)

select * from final
