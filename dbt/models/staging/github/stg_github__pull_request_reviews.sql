-- One row per review (GitHub review node id) on a pull request, any state, PENDING
-- included (a draft review, not yet submitted: `submitted_at` is null). A reviewer whose
-- account was deleted has a null login/kind. Null items are skipped; repeats kept once.

with

source as (

    select * from {{ source('github', 'pull_requests') }}

),

unnested as (

    select
        source.node_id,
        source.repo,
        source.pr_number,
        item.review
    from source
    cross join unnest(cast(source.pr -> '$.reviews.nodes' as json[])) as item(review)

),

renamed as (

    select
        review ->> '$.id'                                   as review_id,
        node_id                                             as pull_request_id,
        repo,
        pr_number,
        review ->> '$.state'                                as review_state,
        cast(review ->> '$.submittedAt' as timestamptz)     as submitted_at,
        review ->> '$.author.login'                         as reviewer_login,
        review ->> '$.author.__typename'                    as reviewer_kind
    from unnested
    where review is not null
      and review ->> '$.id' is not null
    qualify row_number() over (partition by review ->> '$.id') = 1

)

select * from renamed
