import pytest

from tandem.sync.merge import Outcome, Winner, decide_field, same_value


@pytest.mark.parametrize("winner", list(Winner))
def test_echo_of_base_is_no_change(winner):
    decision = decide_field(salesforce="a", base="a", current="a", winner=winner)
    assert decision.outcome is Outcome.UNCHANGED
    assert not decision.changes_person


@pytest.mark.parametrize("winner", list(Winner))
def test_tandem_only_change_is_kept_for_push(winner):
    decision = decide_field(salesforce="a", base="a", current="b", pending="b", winner=winner)
    assert decision.outcome is Outcome.UNCHANGED
    assert not decision.drops_pending


@pytest.mark.parametrize("winner", list(Winner))
def test_salesforce_only_change_is_applied(winner):
    decision = decide_field(salesforce="new", base="old", current="old", winner=winner)
    assert decision.outcome is Outcome.APPLY
    assert decision.value == "new"


def test_conflict_on_contact_salesforce_wins_and_tandem_value_is_lost_visibly():
    decision = decide_field(salesforce="sf", base="old", current="tandem", pending="tandem", winner=Winner.SALESFORCE)
    assert decision.outcome is Outcome.CONFLICT_SALESFORCE_WINS
    assert (decision.value, decision.lost) == ("sf", "tandem")
    assert decision.changes_person and decision.drops_pending


def test_conflict_on_lead_tandem_wins_and_salesforce_value_is_recorded():
    decision = decide_field(salesforce="sf", base="old", current="tandem", pending="tandem", winner=Winner.TANDEM)
    assert decision.outcome is Outcome.CONFLICT_TANDEM_WINS
    assert (decision.value, decision.lost) == ("tandem", "sf")
    assert not decision.changes_person and not decision.drops_pending


def test_both_sides_same_new_value_is_agreement_not_conflict():
    decision = decide_field(salesforce="x", base="old", current="x", pending="x", winner=Winner.SALESFORCE)
    assert decision.outcome is Outcome.AGREE
    assert decision.drops_pending


@pytest.mark.parametrize("winner", list(Winner))
def test_pending_value_back_at_the_base_is_no_tandem_change(winner):
    decision = decide_field(salesforce="sf", base="old", current="old", pending="old", winner=winner)
    assert decision.outcome is Outcome.APPLY
    assert decision.value == "sf"
    assert decision.changes_person and decision.drops_pending


def test_first_sight_without_base_applies_only_when_different():
    assert decide_field(salesforce="a", current=None, winner=Winner.SALESFORCE).outcome is Outcome.APPLY
    assert decide_field(salesforce="a", current="a", winner=Winner.SALESFORCE).outcome is Outcome.UNCHANGED


@pytest.mark.parametrize(
    ("a", "b", "same"),
    [("", None, True), (10, 10.0, True), (10, 10.5, False), (False, None, True), (True, None, False),
     ("A", "a", False), (0, False, False)],
)
def test_same_value(a, b, same):
    assert same_value(a, b) is same


@pytest.mark.parametrize("winner", list(Winner))
def test_salesforce_holding_a_value_an_interrupted_push_sent_is_an_echo(winner):
    decision = decide_field(salesforce="sent", base="old", current="newer", pending="newer", sent="sent",
                            winner=winner)
    assert decision.outcome is Outcome.UNCHANGED
    assert decision.value == "sent" and not decision.drops_pending


def test_a_real_salesforce_change_over_an_interrupted_push_is_still_a_conflict():
    decision = decide_field(salesforce="theirs", base="old", current="newer", pending="newer", sent="sent",
                            winner=Winner.SALESFORCE)
    assert decision.outcome is Outcome.CONFLICT_SALESFORCE_WINS
