-- Grain: one row per reviewer (login) x ISO week (Monday, UTC), for weeks in which the
-- person was asked for a review or wrote one. Requests are counted in the week they were
-- made (fct_review_requests spells asked of the person by login; a team's requests belong
-- to mart_team_weekly), whatever week they were answered in; reviews, approvals and
-- review-thread comments in the week they were written. Only reviews given count
-- (fct_pull_request_reviews: submitted, on someone else's PR), and only their thread
-- comments. Bots and deleted accounts (`ghost`) are left out: they are not people whose
-- load a lead weighs.

with

review_requests as (

    select * from {{ ref('fct_review_requests') }}
    where reviewer_login is not null and reviewer_login <> 'ghost' and not is_bot_reviewer

),

reviews as (

    select * from {{ ref('fct_pull_request_reviews') }}
    where is_review_given and not is_bot_reviewer and reviewer_login <> 'ghost'

),

review_comments as (

    select * from {{ ref('stg_github__pull_request_review_comments') }}

),

requests_weekly as (

    select
        reviewer_login,
        {{ week_start('requested_at') }}                            as week_start,
        count(*)                                                    as review_requests,
        count(*) filter (where outcome = 'responded')               as review_requests_answered,
        quantile_cont(response_hours, 0.5)                          as median_response_hours,
        quantile_cont(response_hours, 0.9)                          as p90_response_hours
    from review_requests
    group by 1, 2

),

reviews_weekly as (

    select
        reviewer_login,
        {{ week_start('submitted_at') }}                            as week_start,
        count(*)                                                    as reviews_written,
        count(*) filter (where review_state = 'APPROVED')           as approvals
    from reviews
    group by 1, 2

),

-- the thread comments of the reviews given, in the week each comment was written
comments_weekly as (

    select
        reviews.reviewer_login,
        {{ week_start('review_comments.created_at') }}              as week_start,
        count(*)                                                    as review_comments_written
    from review_comments
    inner join reviews
        on review_comments.review_id = reviews.review_id
    group by 1, 2

),

weeks as (

    select reviewer_login, week_start from requests_weekly
    union
    select reviewer_login, week_start from reviews_weekly
    union
    select reviewer_login, week_start from comments_weekly

),

final as (

    select
        weeks.reviewer_login,
        weeks.week_start,
        strftime(weeks.week_start, '%G-W%V')                        as iso_week,
        coalesce(requests_weekly.review_requests, 0)                as review_requests,
        coalesce(requests_weekly.review_requests_answered, 0)       as review_requests_answered,
        requests_weekly.median_response_hours,
        requests_weekly.p90_response_hours,
        coalesce(reviews_weekly.reviews_written, 0)                 as reviews_written,
        coalesce(comments_weekly.review_comments_written, 0)        as review_comments_written,
        coalesce(reviews_weekly.approvals, 0)                       as approvals
    from weeks
    left join requests_weekly
        on weeks.reviewer_login = requests_weekly.reviewer_login
       and weeks.week_start = requests_weekly.week_start
    left join reviews_weekly
        on weeks.reviewer_login = reviews_weekly.reviewer_login
       and weeks.week_start = reviews_weekly.week_start
    left join comments_weekly
        on weeks.reviewer_login = comments_weekly.reviewer_login
       and weeks.week_start = comments_weekly.week_start

)

select * from final
