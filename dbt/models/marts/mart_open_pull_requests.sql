-- Grain: one row per open pull request (state OPEN when last fetched), with its age
-- against the `as_of` var. Ages change every run while the PR does not, so they live
-- here, rebuilt each run from the (incremental) fact, rather than in the fact.

with

pull_requests as (

    select * from {{ ref('fct_pull_requests') }}
    where state = 'OPEN'

),

as_of as (

    select {{ as_of() }} as as_of

),

final as (

    select
        pull_requests.pull_request_id,
        pull_requests.repo,
        pull_requests.pr_number,
        pull_requests.url,
        pull_requests.title,
        pull_requests.is_draft,
        pull_requests.review_decision,
        pull_requests.author_login,
        pull_requests.author_kind,
        pull_requests.milestone_number,
        pull_requests.milestone_title,
        pull_requests.created_at,
        pull_requests.updated_at,
        pull_requests.first_review_at,
        pull_requests.hours_to_first_review,
        -- 0 for a PR created after as_of (a run re-measuring an earlier day)
        greatest({{ hours_between('pull_requests.created_at', 'as_of.as_of') }}, 0)
                                                                  as hours_open,
        pull_requests.label_count,
        pull_requests.assignee_count,
        pull_requests.review_count,
        pull_requests.review_request_count,
        as_of.as_of
    from pull_requests
    cross join as_of

)

select * from final
