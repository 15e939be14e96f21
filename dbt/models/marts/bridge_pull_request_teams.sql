-- Grain: one row per pull request x team its author was in when it was opened.
-- A table rebuilt on each run, not a per-PR incremental model: its rows depend on the
-- memberships as well as on the PR, and those change without any PR changing (a new sync
-- of the teams, an edit of the teams file), so a PR loaded long ago may gain or lose rows.
--
-- A PR's teams are its author's teams at `opened_at` (dim_team_memberships' span holding
-- it); for a PR opened before the author's first recorded membership, the teams of that
-- first record. A PR whose author is in two teams counts for both; a bot's PR (the is_bot
-- rule) and a deleted author's count for none.

with

pull_requests as (

    select
        pull_request_id,
        repo,
        pr_number,
        author_login,
        created_at                      as opened_at
    from {{ ref('fct_pull_requests') }}
    where author_login <> 'ghost'
      and not {{ is_bot('author_login', 'author_kind') }}

),

memberships as (

    select
        *,
        lower(login)                                                as login_key,
        min(valid_from) over (partition by lower(login))            as first_recorded_at
    from {{ ref('dim_team_memberships') }}

),

matched as (

    select
        pull_requests.pull_request_id,
        pull_requests.repo,
        pull_requests.pr_number,
        pull_requests.author_login,
        pull_requests.opened_at,
        memberships.team,
        memberships.team_name,
        memberships.org,
        memberships.login                       as member_login,
        memberships.role,
        memberships.is_inherited,
        memberships.source                      as membership_source,
        memberships.valid_from                  as membership_valid_from,
        memberships.valid_to                    as membership_valid_to,
        case
            when pull_requests.opened_at < memberships.first_recorded_at
                then 'earliest_recorded'
            else 'at_opened_at'
        end                                     as attributed_by
    from pull_requests
    join memberships
      on memberships.login_key = lower(pull_requests.author_login)
     and case
             when pull_requests.opened_at < memberships.first_recorded_at
                 then memberships.valid_from = memberships.first_recorded_at
             else memberships.valid_from <= pull_requests.opened_at
                  and (memberships.valid_to is null
                       or pull_requests.opened_at < memberships.valid_to)
         end

)

select * from matched
