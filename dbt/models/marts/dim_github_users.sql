-- Grain: one row per GitHub login seen as PR author, merger, assignee, reviewer or
-- requested reviewer (users, bots, mannequins, organizations), plus exactly one `ghost`
-- row that stands for every deleted account. Teams (requested as reviewers) are not
-- logins and are not listed.

with

pull_requests as (

    select * from {{ ref('stg_github__pull_requests') }}

),

assignees as (

    select * from {{ ref('stg_github__pull_request_assignees') }}

),

reviews as (

    select * from {{ ref('stg_github__pull_request_reviews') }}

),

review_requests as (

    select * from {{ ref('stg_github__pull_request_review_requests') }}

),

-- Every appearance of an actor; `kind_rank` 1 = GitHub's own __typename, 2 = assumed
-- (assignees are always users but the query does not ask for their __typename).
appearances as (

    select author_login as login, author_kind as kind, 1 as kind_rank, 'author' as role
    from pull_requests where author_login is not null

    union all

    select merged_by_login, merged_by_kind, 1, 'merger'
    from pull_requests where merged_by_login is not null

    union all

    select assignee_login, 'User', 2, 'assignee'
    from assignees

    union all

    select reviewer_login, reviewer_kind, 1, 'reviewer'
    from reviews where reviewer_login is not null

    union all

    select requested_reviewer_login, requested_reviewer_kind, 1, 'requested_reviewer'
    from review_requests where requested_reviewer_login is not null

),

logins as (

    select
        login,
        first(kind order by kind_rank, kind nulls last)    as kind,
        bool_or(role = 'author')                               as is_author,
        bool_or(role = 'merger')                               as is_merger,
        bool_or(role = 'assignee')                             as is_assignee,
        bool_or(role = 'reviewer')                             as is_reviewer,
        bool_or(role = 'requested_reviewer')                   as is_requested_reviewer
    from appearances
    where login <> 'ghost'
    group by login

),

ghost as (

    select
        'ghost'  as login,
        'ghost'  as kind,
        exists (select 1 from pull_requests where author_login is null)   as is_author,
        exists (select 1 from pull_requests
                where merged_at is not null and merged_by_login is null)  as is_merger,
        false                                                             as is_assignee,
        exists (select 1 from reviews where reviewer_login is null)       as is_reviewer,
        false                                                             as is_requested_reviewer

),

final as (

    select
        login,
        coalesce(kind, 'User') as kind,
        is_author,
        is_merger,
        is_assignee,
        is_reviewer,
        is_requested_reviewer
    from logins

    union all

    select * from ghost

)

select * from final
