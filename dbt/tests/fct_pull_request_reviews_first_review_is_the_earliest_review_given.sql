-- One definition of "a review given": fct_pull_requests.first_review_at is the earliest
-- `submitted_at` among the PR's rows of fct_pull_request_reviews where `is_review_given`
-- (null when there is none). A row returned is a PR where the two disagree.

with

first_given as (

    select
        pull_request_id,
        min(submitted_at) filter (where is_review_given) as first_review_given_at
    from {{ ref('fct_pull_request_reviews') }}
    group by 1

)

select
    pull_requests.pull_request_id,
    pull_requests.first_review_at,
    first_given.first_review_given_at
from {{ ref('fct_pull_requests') }} as pull_requests
left join first_given
    on pull_requests.pull_request_id = first_given.pull_request_id
where pull_requests.first_review_at is distinct from first_given.first_review_given_at
