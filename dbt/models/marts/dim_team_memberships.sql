-- Grain: one row per span of a login's membership of a team: (team, login, valid_from).
-- A type-2 history derived from every recorded sync (raw keeps each sync's snapshot, keyed
-- by its sync time), so it is a table rebuilt on each run from raw: a full refresh gives
-- the same rows, and a later sync never changes a span that ended before it.
--
-- At each recorded instant (any sync of any organization's teams, or of the teams file) the
-- memberships in force are: the teams file's latest sync at or before it, for the logins it
-- lists; and for every other login, each organization's latest `ok` sync at or before it,
-- with members of a child team counted in every team above it (GitHub's rule). A span
-- runs from the first instant of an unbroken run of instants with the same membership
-- (same team, login, role, inheritance, source, name) to the next instant without it.

with

github_syncs as (

    -- only a sync that read the teams says who was in them
    select org, synced_at
    from {{ ref('stg_github__team_syncs') }}
    where status = 'ok'

),

file_syncs as (

    select synced_at from {{ ref('stg_teams_file__syncs') }}

),

instants as (

    select instant, row_number() over (order by instant) as instant_no
    from (
        select synced_at as instant from github_syncs
        union
        select synced_at from file_syncs
    )

),

teams as (

    select * from {{ ref('stg_github__teams') }}

),

-- Each team, then its parent, its parent's parent, ... within one sync (depth 0 is the
-- team itself). The recursion sits in a subquery so the model stays one plain WITH.
ancestry as (

    select * from (
        with recursive chain as (
            select org, synced_at, team_slug, team_slug as ancestor_slug, 0 as depth
            from teams
            union all
            select chain.org, chain.synced_at, chain.team_slug, teams.parent_team_slug,
                   chain.depth + 1
            from chain
            join teams
              on teams.org = chain.org
             and teams.synced_at = chain.synced_at
             and teams.team_slug = chain.ancestor_slug
            where teams.parent_team_slug is not null
              and chain.depth < 32  -- GitHub allows no cycle; this only bounds a bad input
        )
        select * from chain
    )

),

-- Per sync: everyone in a team, directly or through a team below it. The role is the
-- person's own role in that team (MAINTAINER only as a direct maintainer of it).
github_memberships as (

    select
        members.org,
        members.synced_at,
        ancestry.ancestor_slug                                          as team_slug,
        members.login,
        bool_or(ancestry.depth = 0)                                     as is_direct,
        bool_or(ancestry.depth = 0 and members.role = 'MAINTAINER')     as is_maintainer
    from {{ ref('stg_github__team_members') }} as members
    join ancestry
      on ancestry.org = members.org
     and ancestry.synced_at = members.synced_at
     and ancestry.team_slug = members.team_slug
    group by all

),

github_rows as (

    select
        memberships.org,
        memberships.synced_at,
        coalesce(teams.team, memberships.org || '/' || memberships.team_slug)  as team,
        coalesce(teams.team_name, memberships.team_slug)                       as team_name,
        memberships.login,
        case when memberships.is_maintainer then 'MAINTAINER' else 'MEMBER' end as role,
        not memberships.is_direct                                              as is_inherited
    from github_memberships as memberships
    left join teams
      on teams.org = memberships.org
     and teams.synced_at = memberships.synced_at
     and teams.team_slug = memberships.team_slug

),

-- Each organization's latest read at or before each instant (an organization read
-- for the first time later has no members before).
github_in_force as (

    select instants.instant_no, github_syncs.org, github_syncs.synced_at
    from instants
    join github_syncs on github_syncs.synced_at <= instants.instant
    qualify row_number() over (
        partition by instants.instant_no, github_syncs.org
        order by github_syncs.synced_at desc
    ) = 1

),

file_in_force as (

    select instants.instant_no, file_syncs.synced_at
    from instants
    join file_syncs on file_syncs.synced_at <= instants.instant
    qualify row_number() over (
        partition by instants.instant_no order by file_syncs.synced_at desc
    ) = 1

),

file_at_instant as (

    select
        file_in_force.instant_no,
        members.team,
        members.team                    as team_name,
        cast(null as varchar)           as org,
        members.login,
        'MEMBER'                        as role,
        false                           as is_inherited,
        'file'                          as source
    from file_in_force
    join {{ ref('stg_teams_file__members') }} as members using (synced_at)

),

-- For a login the file lists, the file wins over GitHub teams.
github_at_instant as (

    select
        github_in_force.instant_no,
        github_rows.team,
        github_rows.team_name,
        github_rows.org,
        github_rows.login,
        github_rows.role,
        github_rows.is_inherited,
        'github'                        as source
    from github_in_force
    join github_rows using (org, synced_at)
    where not exists (
        select 1 from file_at_instant
        where file_at_instant.instant_no = github_in_force.instant_no
          and lower(file_at_instant.login) = lower(github_rows.login)
    )

),

at_instant as (

    select * from file_at_instant
    union all
    select * from github_at_instant

),

-- Gaps and islands: consecutive instants with the same membership form one span.
islands as (

    select
        *,
        instant_no - row_number() over (
            partition by team, login, role, is_inherited, source, team_name, org
            order by instant_no
        ) as island
    from at_instant

),

spans as (

    select
        team, team_name, org, login, role, is_inherited, source,
        min(instant_no) as first_instant_no,
        max(instant_no) as last_instant_no
    from islands
    group by team, team_name, org, login, role, is_inherited, source, island

),

final as (

    select
        spans.team,
        spans.team_name,
        spans.org,
        spans.login,
        spans.role,
        spans.is_inherited,
        spans.source,
        starts.instant                  as valid_from,
        ends.instant                    as valid_to,
        ends.instant is null            as is_current
    from spans
    join instants as starts on starts.instant_no = spans.first_instant_no
    left join instants as ends on ends.instant_no = spans.last_instant_no + 1

)

select * from final
