-- One row per pull request x pending review request (a reviewer asked and not yet
-- reviewed). The requested reviewer is a user/bot/mannequin (`requested_reviewer_login`)
-- or a team (`requested_team_slug`). Requests whose reviewer GitHub returns as null (a
-- deleted account, or a team the token cannot see) are skipped: nothing identifies them.

with

source as (

    select * from {{ source('github', 'pull_requests') }}

),

requests as (

    {{ unnest_pull_request_list(
        'source', "pr -> '$.reviewRequests.nodes'", 'request',
        unique_by=[
            "request ->> '$.requestedReviewer.__typename'",
            "coalesce(request ->> '$.requestedReviewer.login', request ->> '$.requestedReviewer.slug')"
        ],
        where="coalesce(request ->> '$.requestedReviewer.login', request ->> '$.requestedReviewer.slug') is not null"
    ) }}

),

renamed as (

    select
        node_id                                                 as pull_request_id,
        repo,
        pr_number,
        request ->> '$.requestedReviewer.__typename'            as requested_reviewer_kind,
        case when request ->> '$.requestedReviewer.__typename' <> 'Team'
             then request ->> '$.requestedReviewer.login' end   as requested_reviewer_login,
        case when request ->> '$.requestedReviewer.__typename' = 'Team'
             then request ->> '$.requestedReviewer.slug' end    as requested_team_slug,
        coalesce(request ->> '$.requestedReviewer.login',
                 request ->> '$.requestedReviewer.slug')        as requested_reviewer_name,
        loaded_at
    from requests

)

select * from renamed
