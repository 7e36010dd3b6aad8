"""A deliberately buggy Exercise 5, for the CLI tests: the leader commits every entry
it holds at once, without waiting for a majority of matchIndex (Figure 2, Leaders)."""


def advance_commit_index(node):
    if node.is_leader:
        node.commit_index = node.log.last_index
