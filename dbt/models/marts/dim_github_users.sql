-- Grain: one row per GitHub login seen as PR author, merger, assignee, reviewer or
-- requested reviewer (users, bots, mannequins, organizations), plus exactly one `ghost`
-- row that stands for every deleted account. Teams (requested as reviewers) are not
-- logins and are not listed.

with

-- Every appearance of an actor on a PR (author, merger, assignee, reviewer, requested
-- reviewer), kept per PR and incrementally by int_pull_request_actors.
appearances as (

    select unnest(actors, recursive := true)
    from {{ ref('int_pull_request_actors') }}

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
    where login is not null
      and login <> 'ghost'
    group by login

),

ghost as (

    select
        'ghost'  as login,
        'ghost'  as kind,
        exists (select 1 from appearances
                where role = 'author' and login is null)                  as is_author,
        exists (select 1 from appearances
                where role = 'merger' and login is null)                  as is_merger,
        false                                                             as is_assignee,
        exists (select 1 from appearances
                where role = 'reviewer' and login is null)                as is_reviewer,
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
