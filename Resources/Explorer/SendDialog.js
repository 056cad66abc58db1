// Orthanc Explorer, de-identification plugin: the Send de-identified to
// dialog. Destinations from Orthanc (/modalities, /peers) and the DICOMweb
// plugin (/dicom-web/servers), the rule that applies
// (POST /deidentification/rules/test), then POST /{level}/{id}/deidentify/send.
(function ($, ns) {
  'use strict';

  if (!$ || !ns) {
    return;
  }

  var LEVELS = ns.LEVELS;
  var ELLIPSIS = ns.ELLIPSIS;
  var Rest = ns.Rest;
  var OpenDialog = ns.OpenDialog;
  var Template = ns.Template;
  var FollowJob = ns.FollowJob;

  // ---- Send de-identified to -----------------------------------------------

  function AddDestinations(select, label, kind, names) {
    if (!names || names.length === 0) {
      return;
    }
    var group = $('<optgroup>').attr('label', label);
    $.each(names, function (i, name) {
      group.append($('<option>').val(JSON.stringify({ kind: kind, name: name }))
                   .text(name).attr('data-kind', kind));
    });
    select.append(group);
  }

  function Names(answer) {
    if ($.isArray(answer)) {
      return answer;
    }
    return $.map(answer || {}, function (value, name) { return name; });
  }

  function Row(table, key, value) {
    table.append($('<tr>').append($('<th>').text(key)).append($('<td>').text(value)));
  }

  // The answer of POST /deidentification/rules/test: "Allowed" (all
  // instances), and the distinct "Decisions" with their instance counts.
  function ShowDecision(target, answer) {
    target.empty();
    var decisions = $.isArray(answer.Decisions) ? answer.Decisions : [answer];
    var count = answer.InstancesCount;
    var anyAllowed = false;
    $.each(decisions, function (i, d) {
      anyAllowed = anyAllowed || !!d.Allowed;
    });
    var forAll = (typeof count === 'number' ? ' for all ' + count + ' instance(s)' : '');
    var headline;
    if (answer.Allowed) {
      headline = 'Allowed by the rules' + forAll;
    } else if (anyAllowed) {
      headline = 'Not allowed for every instance: the refused ones are not sent';
    } else {
      headline = 'Refused by the rules' + forAll + ': nothing would be sent';
    }
    target.append($('<div>').addClass(answer.Allowed ? 'deid-allowed' : 'deid-refused').text(headline));
    $.each(decisions, function (i, d) {
      var table = $('<table class="deid-kv">').attr('data-rule', d.Rule || '');
      Row(table, 'Rule', d.Rule ? d.Rule : '(none: no rule covers these instances)');
      Row(table, 'Decision', (d.Allowed ? 'allowed' : 'refused') +
          (typeof d.InstancesCount === 'number' ? ' for ' + d.InstancesCount + ' instance(s)' : ''));
      if (d.Reason) {
        Row(table, 'Reason', d.Reason);
      }
      if (d.Allowed) {
        var effective = d.Effective || {};
        var options = effective.Options || d.Options || [];
        Row(table, 'Profile', effective.Profile || d.Profile || '(the default profile)');
        Row(table, 'Options', options.length ? options.join(', ') : '(none)');
        Row(table, 'Project', d.Project || '(the profile\'s, else "default")');
        if (d.Recipients && d.Recipients.length) {
          Row(table, 'Recipients', d.Recipients.join(', '));
        }
      }
      target.append(table);
    });
  }

  function OpenSend(level, id, caps) {
    var dialog = OpenDialog('Send this ' + LEVELS[level].name + ' de-identified');
    dialog.body.append(Template('send'));
    var select = $('#deid-destination');
    var rule = $('#deid-rule');
    select.append($('<option value="">').text('Choose a destination' + ELLIPSIS));

    // The DICOMweb plugin may not be loaded: its absence is not an error.
    function Optional(path) {
      var deferred = $.Deferred();
      Rest('GET', path).then(function (a) { deferred.resolve(a); }, function () { deferred.resolve([]); });
      return deferred.promise();
    }

    $.when(Rest('GET', '/modalities'), Rest('GET', '/peers'), Optional('/dicom-web/servers'))
      .then(function (modalities, peers, servers) {
        AddDestinations(select, 'DICOM modalities (C-STORE)', 'Modality', Names(modalities));
        AddDestinations(select, 'Orthanc peers', 'Peer', Names(peers));
        AddDestinations(select, 'DICOMweb servers (STOW-RS)', 'DicomWeb', Names(servers));
        if (select.find('option').length === 1) {
          dialog.ShowError('No destination is configured in Orthanc ("DicomModalities", ' +
                           '"OrthancPeers" or the DICOMweb "Servers").');
        }
      }, function (message) {
        dialog.ShowError(message);
      });

    function Selected() {
      var value = select.val();
      return value ? JSON.parse(value) : null;
    }

    select.change(function () {
      dialog.Reset();
      $('#deid-send-start').prop('disabled', false);
      rule.empty();
      var destination = Selected();
      if (destination === null) {
        return;
      }
      if (!caps.RulesTest) {
        rule.text('This plugin version cannot tell which rule applies (no /deidentification/rules/test).');
        return;
      }
      var d = {};
      d[destination.kind] = destination.name;
      rule.text('Checking the rules' + ELLIPSIS);
      Rest('POST', '/deidentification/rules/test', { Resource: id, Destination: d }).then(function (answer) {
        if (Selected() !== null && Selected().name === destination.name) {
          ShowDecision(rule, answer);
        }
      }, function (message) {
        rule.empty();
        dialog.ShowError(message);
      });
    });

    dialog.AddButton('deid-send-start', 'Send', true, function (button) {
      var destination = Selected();
      if (destination === null) {
        dialog.ShowError('Choose a destination first.');
        return;
      }
      var body = {};
      body[destination.kind] = destination.name;
      button.prop('disabled', true);
      Rest('POST', '/' + LEVELS[level].plural + '/' + id + '/deidentify/send', body).then(function (answer) {
        if (!answer || typeof answer.ID !== 'string') {
          dialog.ShowResult($('<div>').text('Sent.'));
          return;
        }
        FollowJob(dialog, answer.ID, function (job) {
          var c = job.Content || {};
          var text = 'Sent to ' + destination.kind + ' "' + destination.name + '"';
          if (typeof c.SentInstancesCount === 'number') {
            text += ': ' + c.SentInstancesCount + ' instance(s) sent';
          }
          if (typeof c.RefusedInstancesCount === 'number' && c.RefusedInstancesCount > 0) {
            text += ', ' + c.RefusedInstancesCount + ' refused by the rules';
          }
          dialog.ShowResult($('<div id="deid-send-done">').text(text + '.'));
        }, function () {
          button.prop('disabled', false);   // another destination may be chosen
        });
      }, function (message) {
        button.prop('disabled', false);
        dialog.ShowError(message);
      });
    });
  }

  ns.OpenSend = OpenSend;
})(window.jQuery, window.DeidentificationExplorer);
